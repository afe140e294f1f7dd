import type { IndexQuery, SearchDocument, SearchIndex } from '../../src/search/search-index';

export interface SearchIndexHarness {
  /** A fresh, empty index. */
  create(): Promise<SearchIndex>;
  destroy(index: SearchIndex): Promise<void>;
}

const hex = (c: string) => c.repeat(64);

/** A public package of user `me` (id 1), unlinked, nothing else known. */
export function doc(name: string, extra: Partial<SearchDocument> = {}): SearchDocument {
  return {
    name,
    owner: name.split('/')[0] ?? name,
    ownerKind: 'user',
    ownerId: 1,
    repository: null,
    visibility: 'public',
    description: null,
    labels: {},
    tags: [],
    platforms: [],
    digests: [],
    downloads: 0,
    updatedAt: 1_000,
    latestTag: null,
    indexedAt: 1_000,
    ...extra,
  };
}

export function query(text: Partial<IndexQuery> = {}): IndexQuery {
  return { phrase: '', words: [], filter: { labels: [], tags: [], platforms: [] }, access: { kind: 'all' }, offset: 0, limit: 30, ...text };
}

/** Free text as the service passes it. */
export function words(text: string): Partial<IndexQuery> {
  return { phrase: text.toLowerCase(), words: text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [] };
}

/** The SearchIndex contract: the SQL implementation on SQLite and on PostgreSQL runs exactly this suite. */
export function searchIndexContract(name: string, harness: SearchIndexHarness): void {
  describe(`SearchIndex contract: ${name}`, () => {
    let index: SearchIndex;
    beforeEach(async () => {
      index = await harness.create();
    });
    afterEach(() => harness.destroy(index));

    const names = async (q: IndexQuery) => (await index.search(q)).hits.map((h) => h.name);

    it('finds nothing in an empty index', async () => {
      expect(await index.search(query(words('api')))).toEqual({ total: 0, hits: [] });
      expect(await index.search(query())).toEqual({ total: 0, hits: [] });
    });

    it('returns what was put, and forgets what was removed', async () => {
      await index.put(doc('me/api', { description: 'An <b>API</b>', latestTag: 'v1', downloads: 7, updatedAt: 5_000 }));
      expect(await index.search(query(words('api')))).toEqual({
        total: 1,
        hits: [
          {
            name: 'me/api',
            owner: 'me',
            ownerKind: 'user',
            visibility: 'public',
            description: 'An <b>API</b>',
            updatedAt: 5_000,
            downloads: 7,
            latestTag: 'v1',
          },
        ],
      });
      await index.remove('me/api');
      expect((await index.search(query(words('api')))).total).toBe(0);
      expect((await index.search(query())).total).toBe(0);
      await index.remove('me/api');
    });

    it('ranks an exact name, then a name prefix, then a segment, then text; ties by downloads, then recency', async () => {
      await index.put(doc('me/tools', { description: 'api helpers', downloads: 1000 }));
      await index.put(doc('me/web-api', { downloads: 500 }));
      await index.put(doc('me/apiserver', { downloads: 10 }));
      await index.put(doc('me/api', { downloads: 0 }));
      await index.put(doc('me/api-gateway', { downloads: 10, updatedAt: 9_000 }));
      expect(await names(query(words('api')))).toEqual(['me/api', 'me/api-gateway', 'me/apiserver', 'me/web-api', 'me/tools']);
      expect(await names(query(words('me/api')))).toEqual(['me/api', 'me/api-gateway', 'me/apiserver', 'me/web-api', 'me/tools']);
      expect(await names(query(words('me/apis')))).toEqual(['me/apiserver']);
      expect((await index.search(query(words('api')))).total).toBe(5);
    });

    it('ranks a name segment above the same word in the text only (description, tags, labels), digits and all', async () => {
      await index.put(doc('me/tools', { description: 'v2', tags: ['v2'], downloads: 1000 }));
      await index.put(doc('me/old', { labels: { 'org.opencontainers.image.vendor': 'v2' }, downloads: 900 }));
      await index.put(doc('me/app-v2', { description: 'v2 again', downloads: 1 }));
      await index.put(doc('me/v2x', { downloads: 5 }));
      const found = await names(query(words('v2')));
      expect(found.slice(0, 2)).toEqual(['me/v2x', 'me/app-v2']);
      expect(found.slice(2).sort()).toEqual(['me/old', 'me/tools']);
      expect(await names(query(words('v2 again')))).toEqual(['me/app-v2']);
      expect(await names(query({ ...words('v2'), filter: { labels: [], tags: [], platforms: [], visibility: 'private' } }))).toEqual([]);
    });

    it('matches every word of the text, in the description, owner, tags, labels and repository', async () => {
      await index.put(
        doc('acme/a', {
          owner: 'acme',
          description: 'Fast image resizer',
          tags: ['bookworm'],
          labels: { 'org.opencontainers.image.vendor': 'Initech', 'x.private': 'hidden' },
          repository: { id: 4, ownerId: 2, fullName: 'acme/imaging' },
        }),
      );
      await index.put(doc('acme/b', { owner: 'acme', description: 'Fast thing' }));
      expect(await names(query(words('fast resizer')))).toEqual(['acme/a']);
      expect(await names(query(words('initech')))).toEqual(['acme/a']);
      expect(await names(query(words('bookworm')))).toEqual(['acme/a']);
      expect(await names(query(words('imaging')))).toEqual(['acme/a']);
      expect(await names(query(words('hidden')))).toEqual([]);
      expect((await names(query(words('fast')))).sort()).toEqual(['acme/a', 'acme/b']);
    });

    it('matches words alone (no name phrase) and a digest prefix alone', async () => {
      await index.put(doc('me/api', { description: 'fast', digests: [`sha256:${hex('d')}`] }));
      expect(await names(query({ words: ['fast'] }))).toEqual(['me/api']);
      expect(await names(query({ words: ['fast'], digestPrefix: 'dddddddddddd' }))).toEqual(['me/api']);
    });

    it('treats query syntax of either full-text engine as words', async () => {
      await index.put(doc('me/api', { description: 'near and or not' }));
      for (const text of ['NEAR', 'AND', 'api OR', '"api', "api'", 'api*', 'name:api', 'api & | !', '(api)']) {
        await expect(index.search(query(words(text)))).resolves.toBeDefined();
      }
      expect(await names(query(words('NEAR AND')))).toEqual(['me/api']);
    });

    it('finds a manifest by a digest prefix', async () => {
      await index.put(doc('me/a', { digests: [`sha256:${'ab'.repeat(32)}`] }));
      await index.put(doc('me/b', { digests: [`sha256:${hex('c')}`] }));
      expect(await names(query({ digestPrefix: 'abababababab' }))).toEqual(['me/a']);
      expect(await names(query({ digestPrefix: 'ababababababc' }))).toEqual([]);
    });

    it('filters by owner, repository, visibility, labels, tags and platforms', async () => {
      await index.put(
        doc('acme/a', {
          owner: 'acme',
          ownerKind: 'org',
          ownerId: 2,
          repository: { id: 9, ownerId: 2, fullName: 'acme/src' },
          labels: { 'org.opencontainers.image.licenses': 'MIT' },
          tags: ['v1', 'latest'],
          platforms: ['linux/amd64', 'linux/arm64', 'linux/arm64/v8'],
        }),
      );
      await index.put(doc('me/b', { visibility: 'private', tags: ['v1'], platforms: ['linux/amd64'] }));
      const filtered = (f: Partial<IndexQuery['filter']>) => names(query({ filter: { labels: [], tags: [], platforms: [], ...f } }));
      expect(await filtered({ owner: { name: 'acme', kind: 'org' } })).toEqual(['acme/a']);
      expect(await filtered({ owner: { name: 'acme', kind: 'user' } })).toEqual([]);
      expect(await filtered({ repository: 'acme/src' })).toEqual(['acme/a']);
      expect(await filtered({ visibility: 'private' })).toEqual(['me/b']);
      expect(await filtered({ labels: [{ key: 'org.opencontainers.image.licenses', value: 'MIT' }] })).toEqual(['acme/a']);
      expect(await filtered({ labels: [{ key: 'org.opencontainers.image.licenses', value: 'mit' }] })).toEqual([]);
      expect((await filtered({ tags: ['v1'] })).sort()).toEqual(['acme/a', 'me/b']);
      expect(await filtered({ tags: ['v1', 'latest'] })).toEqual(['acme/a']);
      expect(await filtered({ platforms: ['linux/arm64/v8'] })).toEqual(['acme/a']);
      expect((await filtered({ platforms: ['linux/amd64'] })).sort()).toEqual(['acme/a', 'me/b']);
    });

    it('counts and ranks only what the access allows', async () => {
      await index.put(doc('pub/api', { downloads: 1 }));
      await index.put(doc('alice/api', { ownerId: 10, visibility: 'private', downloads: 5 }));
      await index.put(
        doc('acme/api', { ownerId: 20, visibility: 'private', repository: { id: 7, ownerId: 20, fullName: 'acme/x' }, downloads: 4 }),
      );
      await index.put(
        doc('ext/api', { ownerId: 30, visibility: 'private', repository: { id: 8, ownerId: 30, fullName: 'ext/y' }, downloads: 3 }),
      );
      // Unlinked and owned by a listed owner: visible; linked packages go by their repository only.
      await index.put(doc('acme/linked', { ownerId: 10, visibility: 'private', repository: { id: 8, ownerId: 30, fullName: 'ext/y' } }));
      const seen = async (access: IndexQuery['access']) => {
        const result = await index.search(query({ ...words('api'), access }));
        return { total: result.total, names: result.hits.map((h) => h.name) };
      };
      const none = { ownerIds: [], repositoryOwnerIds: [], repositoryIds: [] };
      expect(await seen({ kind: 'some', ...none })).toEqual({ total: 1, names: ['pub/api'] });
      expect(await seen({ kind: 'some', ...none, ownerIds: [10] })).toEqual({ total: 2, names: ['alice/api', 'pub/api'] });
      expect(await seen({ kind: 'some', ...none, repositoryOwnerIds: [20] })).toEqual({ total: 2, names: ['acme/api', 'pub/api'] });
      expect(await seen({ kind: 'some', ...none, repositoryIds: [8] })).toEqual({ total: 2, names: ['ext/api', 'pub/api'] });
      expect(await seen({ kind: 'all' })).toEqual({ total: 4, names: ['alice/api', 'acme/api', 'ext/api', 'pub/api'] });
      expect(await seen({ kind: 'none' })).toEqual({ total: 0, names: [] });
      // The exact name of a private package, by an outsider: nothing, not even a count.
      expect(await index.search(query({ ...words('alice/api'), access: { kind: 'some', ...none } }))).toEqual({ total: 0, hits: [] });
    });

    it('pages with offset and limit, counting every match', async () => {
      for (let i = 0; i < 5; i++) await index.put(doc(`me/app-${i}`, { downloads: i }));
      const page = await index.search(query({ ...words('app'), offset: 1, limit: 2 }));
      expect(page.total).toBe(5);
      expect(page.hits.map((h) => h.name)).toEqual(['me/app-3', 'me/app-2']);
      const all = await index.search(query({ offset: 4, limit: 2 }));
      expect(all.total).toBe(5);
      expect(all.hits.map((h) => h.name)).toEqual(['me/app-0']);
    });

    it('lists in the order asked (recency, downloads, name), tagged or untagged only, paged and counted by the index', async () => {
      await index.put(doc('me/b', { downloads: 5, updatedAt: 3_000, latestTag: 'v1' }));
      await index.put(doc('me/a', { downloads: 1, updatedAt: 2_000 }));
      await index.put(doc('me/c', { downloads: 9, updatedAt: 1_000, latestTag: 'latest' }));
      await index.put(doc('me/d', { downloads: 1, updatedAt: 2_000, latestTag: 'v2' }));
      const listed = async (q: Partial<IndexQuery>) => {
        const result = await index.search(query(q));
        return { total: result.total, names: result.hits.map((h) => h.name) };
      };
      expect(await listed({ order: 'updated' })).toEqual({ total: 4, names: ['me/b', 'me/a', 'me/d', 'me/c'] });
      expect(await listed({ order: 'downloads' })).toEqual({ total: 4, names: ['me/c', 'me/b', 'me/a', 'me/d'] });
      expect(await listed({ order: 'name', offset: 1, limit: 2 })).toEqual({ total: 4, names: ['me/b', 'me/c'] });
      const tagged = (value: boolean) => ({ labels: [], tags: [], platforms: [], tagged: value });
      expect(await listed({ order: 'name', filter: tagged(true) })).toEqual({ total: 3, names: ['me/b', 'me/c', 'me/d'] });
      expect(await listed({ order: 'name', filter: tagged(false) })).toEqual({ total: 1, names: ['me/a'] });
      // With text, the order asked replaces relevance (which would put me/c, the most downloaded, first).
      expect(await listed({ ...words('me'), filter: tagged(true) })).toEqual({ total: 3, names: ['me/c', 'me/b', 'me/d'] });
      expect(await listed({ ...words('me'), order: 'name', filter: tagged(true) })).toEqual({ total: 3, names: ['me/b', 'me/c', 'me/d'] });
    });

    it('replaces a document, and keeps the one read later when writes cross', async () => {
      await index.put(doc('me/a', { tags: ['old'], description: 'first', indexedAt: 2_000 }));
      await index.put(doc('me/a', { tags: ['new'], description: 'second', indexedAt: 3_000 }));
      expect(await names(query(words('first')))).toEqual([]);
      expect(await names(query(words('second')))).toEqual(['me/a']);
      await index.put(doc('me/a', { tags: ['stale'], description: 'stale', indexedAt: 2_500 }));
      expect(await names(query(words('stale')))).toEqual([]);
      expect(await names(query({ filter: { labels: [], tags: ['new'], platforms: [] } }))).toEqual(['me/a']);
      expect(await names(query({ filter: { labels: [], tags: ['old'], platforms: [] } }))).toEqual([]);
      expect(await index.stamps()).toEqual(new Map([['me/a', { indexedAt: 3_000, visibility: 'public', ownerId: 1, repositoryId: null }]]));
    });

    it('updates the downloads of an indexed package, which reorders its ties', async () => {
      await index.put(doc('me/app-a', { downloads: 5 }));
      await index.put(doc('me/app-b', { downloads: 1 }));
      expect(await names(query(words('app')))).toEqual(['me/app-a', 'me/app-b']);
      await index.setDownloads('me/app-b', 9);
      await index.setDownloads('me/not-indexed', 9);
      expect(await names(query(words('app')))).toEqual(['me/app-b', 'me/app-a']);
      expect((await index.search(query(words('app-b')))).hits[0]?.downloads).toBe(9);
      expect([...(await index.stamps()).keys()].sort()).toEqual(['me/app-a', 'me/app-b']);
    });

    it('stores many digests and tags of one package', async () => {
      const digests = Array.from({ length: 450 }, (_, i) => `sha256:${i.toString(16).padStart(64, '0')}`);
      await index.put(doc('me/big', { digests, tags: digests.map((_, i) => `t${i}`) }));
      expect(await names(query({ digestPrefix: `${'0'.repeat(61)}1c1` }))).toEqual(['me/big']);
      expect(await names(query({ filter: { labels: [], tags: ['t449'], platforms: [] } }))).toEqual(['me/big']);
    });
  });
}
