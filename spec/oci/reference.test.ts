import { NameInvalid } from '../../src/oci/grammar-errors';
import { assertValidName, isValidName, isValidTag, MAX_NAME_LENGTH } from '../../src/oci/reference';

describe('repository name grammar', () => {
  it.each([
    'a',
    'a/b',
    'a__b',
    'a--b',
    'a---b',
    'a.b',
    'a_b',
    'a-b/c.d/e__f',
    'library/ubuntu',
    '0',
    'a0/9z',
    'blobs/uploads',
    'x/manifests/y',
  ])('accepts %p', (name) => {
    expect(isValidName(name)).toBe(true);
  });

  it.each([
    ['uppercase', 'A'],
    ['uppercase inside', 'library/Ubuntu'],
    ['a trailing separator', 'a_'],
    ['a trailing dash', 'a-'],
    ['a leading dash', '-a'],
    ['a leading dot', '.a'],
    ['three underscores', 'a___b'],
    ['two dots', 'a..b'],
    ['mixed separators', 'a._b'],
    ['an empty component', 'a//b'],
    ['a leading slash', '/a'],
    ['a trailing slash', 'a/'],
    ['an empty name', ''],
    ['a colon', 'a:b'],
    ['a space', 'a b'],
  ])('rejects %s (%p)', (_what, name) => {
    expect(isValidName(name)).toBe(false);
  });

  it(`accepts a name of exactly ${MAX_NAME_LENGTH} characters and refuses one longer`, () => {
    const atLimit = `${'a'.repeat(127)}/${'b'.repeat(127)}`;
    expect(atLimit).toHaveLength(255);
    expect(isValidName(atLimit)).toBe(true);
    expect(isValidName(`${atLimit}c`)).toBe(false);
    expect(isValidName('a'.repeat(300))).toBe(false);
  });

  it('assertValidName raises NameInvalid', () => {
    expect(() => assertValidName('A')).toThrow(NameInvalid);
    expect(() => assertValidName('-a')).toThrow(NameInvalid);
    expect(() => assertValidName('a/b')).not.toThrow();
  });
});

describe('tag grammar', () => {
  it.each(['latest', 'v1.0.0', 'V1', '_private', '1', 'a-b_c.d', 'A'])('accepts %p', (tag) => {
    expect(isValidTag(tag)).toBe(true);
  });

  it.each([
    ['a leading dot', '.hidden'],
    ['a leading dash', '-a'],
    ['a slash', 'a/b'],
    ['a colon', 'a:b'],
    ['a plus', 'a+b'],
    ['an empty tag', ''],
  ])('rejects %s (%p)', (_what, tag) => {
    expect(isValidTag(tag)).toBe(false);
  });

  it('accepts 128 characters and refuses 129', () => {
    expect(isValidTag('t'.repeat(128))).toBe(true);
    expect(isValidTag('t'.repeat(129))).toBe(false);
  });
});
