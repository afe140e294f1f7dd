import { DomainError } from '../../src/domain-error';
import { errorAnswer, type ErrorAnswer } from '../../src/http/error-mapping';
import { parseByteRange, parseContentRange } from '../../src/http/range';

/** The answer a client gets for what `fn` throws. */
function thrown(fn: () => unknown): ErrorAnswer {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return errorAnswer(err, 'registry');
    throw err;
  }
  throw new Error('expected a DomainError');
}

describe('parseByteRange (GET Range)', () => {
  it('returns undefined without a header', () => {
    expect(parseByteRange(undefined, 10)).toBeUndefined();
    expect(parseByteRange('', 10)).toBeUndefined();
  });

  it.each([
    ['bytes=0-4', { start: 0, end: 4 }],
    ['bytes=3-3', { start: 3, end: 3 }],
    ['bytes=5-', { start: 5, end: 9 }],
    ['bytes=0-', { start: 0, end: 9 }],
    ['bytes=-3', { start: 7, end: 9 }],
    ['bytes=-100', { start: 0, end: 9 }],
    ['bytes=2-100', { start: 2, end: 9 }],
    ['  bytes=1-2  ', { start: 1, end: 2 }],
  ])('parses %p on a 10-byte blob', (header, range) => {
    expect(parseByteRange(header, 10)).toEqual(range);
  });

  it.each(['bytes=0-1,3-4', 'items=0-1', 'bytes=a-b', 'bytes=-', 'bytes 0-1'])('ignores %p (the whole blob is served)', (header) => {
    expect(parseByteRange(header, 10)).toBeUndefined();
  });

  it.each(['bytes=10-', 'bytes=10-20', 'bytes=-0', 'bytes=5-2', 'bytes=5-0'])(
    'refuses %p as unsatisfiable with 416 and Content-Range */size',
    (header) => {
      const err = thrown(() => parseByteRange(header, 10));
      expect(err.code).toBe('RANGE_INVALID');
      expect(err.status).toBe(416);
      expect(err.headers).toEqual({ 'Content-Range': 'bytes */10' });
    },
  );

  it('finds no satisfiable range in an empty blob', () => {
    expect(thrown(() => parseByteRange('bytes=0-0', 0)).status).toBe(416);
  });
});

describe('parseContentRange (upload chunks)', () => {
  it('returns undefined without a header', () => {
    expect(parseContentRange(undefined)).toBeUndefined();
  });

  it.each([
    ['0-9', { start: 0, end: 9 }],
    ['10-19', { start: 10, end: 19 }],
    ['bytes 0-9/100', { start: 0, end: 9 }],
    ['bytes=0-9', { start: 0, end: 9 }],
    ['0-9/*', { start: 0, end: 9 }],
    ['5-5', { start: 5, end: 5 }],
  ])('parses %p', (header, range) => {
    expect(parseContentRange(header)).toEqual(range);
  });

  it.each(['', 'garbage', '9-0', '-5', '0-', 'bytes */10'])('refuses %p with BLOB_UPLOAD_INVALID and 416', (header) => {
    const err = thrown(() => parseContentRange(header));
    expect(err.code).toBe('BLOB_UPLOAD_INVALID');
    expect(err.status).toBe(416);
  });
});
