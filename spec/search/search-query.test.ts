import { SearchQueryInvalid } from '../../src/search/search-errors';
import { MAX_QUERY_CHARS, parseSearchQuery } from '../../src/search/search-query';

const NO_FILTER = { labels: [], tags: [], platforms: [] };

describe('the search query grammar', () => {
  it('reads free text as a name, words and (alone, 12+ hex) a digest prefix', () => {
    expect(parseSearchQuery('')).toEqual({ phrase: '', words: [], filter: NO_FILTER });
    expect(parseSearchQuery('  Acme/Web-API  ')).toEqual({ phrase: 'acme/web-api', words: ['acme', 'web', 'api'], filter: NO_FILTER });
    expect(parseSearchQuery('api api API')).toMatchObject({ phrase: 'api api api', words: ['api'] });
    expect(parseSearchQuery('sha256:ABCDEF012345')).toMatchObject({ digestPrefix: 'abcdef012345' });
    expect(parseSearchQuery('abcdef012345')).toMatchObject({ digestPrefix: 'abcdef012345' });
    expect(parseSearchQuery('abcdef01234')).not.toHaveProperty('digestPrefix');
    expect(parseSearchQuery('abcdef012345 web')).not.toHaveProperty('digestPrefix');
    expect(parseSearchQuery('"web api"')).toMatchObject({ phrase: 'web api', words: ['web', 'api'] });
  });

  it('reads every qualifier', () => {
    expect(
      parseSearchQuery(
        'api org:Acme repo:acme/Site is:private label:org.opencontainers.image.licenses=MIT tag:v1.2 tag:latest platform:Linux/ARM64/v8',
      ),
    ).toEqual({
      phrase: 'api',
      words: ['api'],
      filter: {
        owner: { name: 'acme', kind: 'org' },
        repository: 'acme/site',
        visibility: 'private',
        labels: [{ key: 'org.opencontainers.image.licenses', value: 'MIT' }],
        tags: ['v1.2', 'latest'],
        platforms: ['linux/arm64/v8'],
      },
    });
    expect(parseSearchQuery('user:alice IS:public').filter).toMatchObject({ owner: { name: 'alice', kind: 'user' }, visibility: 'public' });
    expect(parseSearchQuery('label:"org.opencontainers.image.title=My App" x').filter.labels).toEqual([
      { key: 'org.opencontainers.image.title', value: 'My App' },
    ]);
    expect(parseSearchQuery('label:k=').filter.labels).toEqual([{ key: 'k', value: '' }]);
    expect(parseSearchQuery('label:k=a=b').filter.labels).toEqual([{ key: 'k', value: 'a=b' }]);
  });

  it('keeps unknown qualifiers and colons as free text', () => {
    expect(parseSearchQuery('foo:bar')).toMatchObject({ phrase: 'foo:bar', words: ['foo', 'bar'], filter: NO_FILTER });
    expect(parseSearchQuery(':org')).toMatchObject({ phrase: ':org', filter: NO_FILTER });
  });

  it.each([
    ['is:banana'],
    ['is:public is:private'],
    ['org:acme user:acme'],
    ['org:acme org:other'],
    ['org:'],
    ['org:-x'],
    ['org:a/b'],
    ['repo:acme'],
    ['repo:acme/site/x'],
    ['repo:acme/site repo:acme/other'],
    ['label:novalue'],
    ['label:=value'],
    [`label:${'k'.repeat(257)}=v`],
    ['tag:'],
    ['tag:-x'],
    ['tag:a/b'],
    ['platform:linux'],
    ['platform:linux/'],
    ['platform:linux/amd64/v8/x'],
    ['platform:"linux/am d64"'],
    ['web\u0000'],
    ['web\u001b[31m'],
    ['a\nb'],
    ['x'.repeat(MAX_QUERY_CHARS + 1)],
    [Array.from({ length: 17 }, (_, i) => `tag:t${i}`).join(' ')],
    [Array.from({ length: 17 }, (_, i) => `w${i}`).join(' ')],
  ])('refuses %j as SearchQueryInvalid', (q) => {
    expect(() => parseSearchQuery(q)).toThrow(SearchQueryInvalid);
  });

  it('never echoes more of a long query than the part it names', () => {
    try {
      parseSearchQuery(`is:${'<script>'.repeat(20)}`);
      throw new Error('not refused');
    } catch (err) {
      expect((err as Error).message).not.toContain('<script>');
    }
  });

  it('takes any other input without throwing anything but SearchQueryInvalid', () => {
    const alphabet = [
      'a',
      'Z',
      '0',
      ':',
      '"',
      "'",
      '=',
      '/',
      '\\',
      ' ',
      '\t',
      '*',
      '&',
      '|',
      '!',
      '(',
      ')',
      '%',
      '_',
      '-',
      '.',
      'é',
      '🐳',
      '\ud800',
      'is',
      'org',
      'label',
      'tag',
      'platform',
      'repo',
      'user',
    ];
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 3000; i++) {
      const q = Array.from({ length: next() % 40 }, () => alphabet[next() % alphabet.length]).join('');
      try {
        const parsed = parseSearchQuery(q);
        expect(parsed.words.every((w) => /^[\p{L}\p{N}]+$/u.test(w))).toBe(true);
        if (parsed.digestPrefix !== undefined) expect(parsed.digestPrefix).toMatch(/^[0-9a-f]{12,128}$/);
      } catch (err) {
        if (!(err instanceof SearchQueryInvalid)) throw err;
      }
    }
  });
});
