import { digestOf, looksLikeDigest, parseDigest, tryParseDigest } from '../../src/oci/digest';
import { DigestInvalid } from '../../src/oci/grammar-errors';

const HEX64 = 'a'.repeat(64);
const HEX128 = '0123456789abcdef'.repeat(8);

describe('tryParseDigest', () => {
  it('parses a sha256 digest', () => {
    expect(tryParseDigest(`sha256:${HEX64}`)).toEqual({ algorithm: 'sha256', hex: HEX64, value: `sha256:${HEX64}` });
  });

  it('parses a sha512 digest', () => {
    expect(tryParseDigest(`sha512:${HEX128}`)).toEqual({ algorithm: 'sha512', hex: HEX128, value: `sha512:${HEX128}` });
  });

  it.each([
    ['uppercase hex', `sha256:${'A'.repeat(64)}`],
    ['mixed-case hex', `sha256:${'a'.repeat(63)}F`],
    ['a sha256 hex one short', `sha256:${'a'.repeat(63)}`],
    ['a sha256 hex one long', `sha256:${'a'.repeat(65)}`],
    ['a sha512 with a sha256-length hex', `sha512:${HEX64}`],
    ['a sha256 with a sha512-length hex', `sha256:${HEX128}`],
    ['non-hex characters', `sha256:${'g'.repeat(64)}`],
    ['an unknown algorithm', `md5:${'a'.repeat(32)}`],
    ['a grammatical but unsupported algorithm', `sha256+b64u:${HEX64}`],
    ['an uppercase algorithm', `SHA256:${HEX64}`],
    ['no algorithm', `:${HEX64}`],
    ['no separator', HEX64],
    ['an empty string', ''],
    ['surrounding whitespace', ` sha256:${HEX64} `],
  ])('rejects %s', (_what, input) => {
    expect(tryParseDigest(input)).toBeNull();
  });
});

describe('parseDigest', () => {
  it('returns the canonical value', () => {
    expect(parseDigest(`sha256:${HEX64}`).value).toBe(`sha256:${HEX64}`);
  });

  it.each([undefined, '', 'sha256:abc', `sha1:${'a'.repeat(40)}`])('raises DigestInvalid for %p', (input) => {
    let caught: unknown;
    try {
      parseDigest(input);
    } catch (err) {
      caught = err;
    }
    // Grammar only: the status (400 DIGEST_INVALID) is the HTTP edge's, tested in spec/http/error-mapping.test.ts.
    expect(caught).toBeInstanceOf(DigestInvalid);
  });
});

describe('digestOf', () => {
  it('computes the sha256 digest of content', () => {
    // sha256 of the empty string, a well-known value.
    expect(digestOf(Buffer.alloc(0))).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('computes a sha512 digest that parses back', () => {
    const d = digestOf(Buffer.from('hello'), 'sha512');
    expect(d.startsWith('sha512:')).toBe(true);
    expect(tryParseDigest(d)?.algorithm).toBe('sha512');
  });
});

describe('looksLikeDigest', () => {
  it('tells digests from tags by the colon', () => {
    expect(looksLikeDigest(`sha256:${HEX64}`)).toBe(true);
    expect(looksLikeDigest('latest')).toBe(false);
  });
});
