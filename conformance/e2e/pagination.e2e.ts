// 5. Pagination of GET /v2/<name>/tags/list and GET /v2/_catalog: n/last walks, Link headers,
//    caps on huge n, n=0, and invalid n.
import { openServer, ServerHandle, stopAll } from './support/berth-process';
import { Client, MT, Reply, check, expectOciError, expectStatus, nextLink } from './support/http';
import { repoName, uniqueBytes } from './support/data';
import { manifestBytes } from './support/images';

let server: ServerHandle;
let client: Client;

const repo = repoName('tags');
const bigRepo = repoName('many-tags');
const catalogPrefix = repoName('cat');
// Lexical (byte-wise) order matters: v1 < v10 < v2, digits < letters, '-' < '.' < digits.
const TAGS = [
  'v1',
  'v10',
  'v2',
  'v2.0',
  'v2-rc',
  'v2.0.1',
  'latest',
  'a',
  'aa',
  'a-b',
  'a.b',
  'a0',
  '0',
  '00',
  '1',
  '10',
  '9',
  'x1',
  'x2',
  'x3',
  'x4',
  'x5',
  'x6',
  'x7',
  'x8',
  'x9',
  'y',
  'z',
  'zz',
  'zzz',
];
const SORTED = [...TAGS].sort();
const REPOS = Array.from({ length: 30 }, (_, i) => `${catalogPrefix}-${String(i).padStart(2, '0')}`);
const CAP = 10_000;
const BIG_COUNT = CAP + 10;

interface Page {
  reply: Reply;
  items: string[];
  next?: string;
}

async function fetchPage(url: string, key: 'tags' | 'repositories'): Promise<Page> {
  const r = await client.get(url);
  expectStatus(r, 200);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(r.body.toString()) as Record<string, unknown>;
  } catch {
    check(r, false, 'body is not JSON');
    throw new Error('unreachable');
  }
  const items = body[key];
  check(r, Array.isArray(items) && items.every((t) => typeof t === 'string'), `"${key}" is not an array of strings`);
  return { reply: r, items: items as string[], next: nextLink(r, client.base) };
}

/** Follows Link rel="next" from `start`; returns every item in order and the pages seen. */
async function walkLinks(start: string, key: 'tags' | 'repositories', n?: number): Promise<string[]> {
  const all: string[] = [];
  let url: string | undefined = start;
  for (let pages = 0; url; pages++) {
    if (pages > 5000) throw new Error(`more than 5000 pages following Link from ${start}`);
    const p = await fetchPage(url, key);
    if (n !== undefined) check(p.reply, p.items.length <= n, `page has ${p.items.length} > n=${n} entries`);
    if (p.next) check(p.reply, p.items.length > 0, 'empty page with a Link rel="next"');
    all.push(...p.items);
    url = p.next;
  }
  return all;
}

/** Walks with explicit ?n=&last= (ignoring Link headers) until a short page without Link. */
async function walkLast(path: string, key: 'tags' | 'repositories', n: number): Promise<string[]> {
  const all: string[] = [];
  let last: string | undefined;
  for (let pages = 0; ; pages++) {
    if (pages > 5000) throw new Error(`more than 5000 pages walking ${path}`);
    const q = new URLSearchParams({ n: String(n) });
    if (last !== undefined) q.set('last', last);
    const p = await fetchPage(`${path}?${q.toString()}`, key);
    check(p.reply, p.items.length <= n, `page has ${p.items.length} > n=${n} entries`);
    if (last !== undefined && p.items.length > 0) check(p.reply, p.items[0]! > last, `page after last=${last} starts at ${p.items[0]}`);
    all.push(...p.items);
    // The spec allows a short page only at the end or together with a Link header.
    if (p.items.length === 0 || (p.items.length < n && !p.next)) return all;
    last = p.items[p.items.length - 1];
  }
}

function expectStrictlyAscending(items: string[], what: string): void {
  for (let i = 1; i < items.length; i++) {
    if (!(items[i - 1]! < items[i]!)) {
      throw new Error(
        `${what}: not in strictly ascending lexical order at ${i}: ${JSON.stringify(items[i - 1])} then ${JSON.stringify(items[i])}`,
      );
    }
  }
}

async function pushManifestUnderTags(name: string, tags: string[], concurrency = 8): Promise<void> {
  const cfg = uniqueBytes(32);
  const digest = await client.pushBlob(name, cfg);
  const body = manifestBytes(MT.ociManifest, { mediaType: MT.ociConfig, digest, size: cfg.length }, []);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < tags.length) {
        const tag = tags[next++]!;
        expectStatus(await client.putManifest(name, tag, body, MT.ociManifest), 201);
      }
    }),
  );
}

// Spec v1.1 is silent on a malformed n; Docker Registry v2 (and Distribution) answer 400 PAGINATION_NUMBER_INVALID.
const BAD_N_CODES = ['PAGINATION_NUMBER_INVALID'];
const BAD_N = ['-1', 'abc', '1.5', '10x'];

beforeAll(async () => {
  server = await openServer();
  client = new Client(server.url);
  await pushManifestUnderTags(repo, TAGS);
  for (const r of REPOS) await pushManifestUnderTags(r, ['t']);
  // 60 pushes and a server start: a bound for a hung server only.
}, 5 * 60_000);

afterAll(async () => {
  client?.close();
  await server?.close();
  await stopAll();
});

describe('tags list pagination', () => {
  test('without n: every tag exactly once, in lexical order (following Link if any)', async () => {
    expect(await walkLinks(`/v2/${repo}/tags/list`, 'tags')).toEqual(SORTED);
  });

  test('n=1000000000 answers with every tag (30 < any sane cap)', async () => {
    const first = await fetchPage(`/v2/${repo}/tags/list?n=1000000000`, 'tags');
    expect(first.items).toEqual(SORTED);
    const all = await walkLinks(`/v2/${repo}/tags/list?n=1000000000`, 'tags', CAP);
    expect(all).toEqual(SORTED);
  });

  for (const n of [1, 7, 29, 30, 31]) {
    test(`n=${n}/last walk returns every tag exactly once, in lexical order`, async () => {
      expect(await walkLast(`/v2/${repo}/tags/list`, 'tags', n)).toEqual(SORTED);
    });
  }

  test('n=7 Link walk returns every tag exactly once, in lexical order, in pages of ≤ 7', async () => {
    const first = await fetchPage(`/v2/${repo}/tags/list?n=7`, 'tags');
    expect(first.items).toEqual(SORTED.slice(0, 7));
    check(first.reply, first.next !== undefined, 'n=7 of 30 tags: no Link rel="next"');
    expect(await walkLinks(`/v2/${repo}/tags/list?n=7`, 'tags', 7)).toEqual(SORTED);
  });

  test('the last page carries no Link header', async () => {
    const p = await fetchPage(`/v2/${repo}/tags/list?n=5&last=${encodeURIComponent(SORTED[24]!)}`, 'tags');
    expect(p.items).toEqual(SORTED.slice(25));
    check(p.reply, p.next === undefined, 'last page still has a Link rel="next"');
  });

  test('last without n returns every tag after it; last not itself a tag works by position', async () => {
    expect((await fetchPage(`/v2/${repo}/tags/list?last=v10`, 'tags')).items).toEqual(SORTED.filter((t) => t > 'v10'));
    expect(await walkLinks(`/v2/${repo}/tags/list?last=v10`, 'tags')).toEqual(SORTED.filter((t) => t > 'v10'));
    expect(await walkLinks(`/v2/${repo}/tags/list?n=3&last=x45`, 'tags', 3)).toEqual(SORTED.filter((t) => t > 'x45'));
    expect(await walkLinks(`/v2/${repo}/tags/list?last=zzzz`, 'tags')).toEqual([]);
  });

  test('n=0 → 200, an empty list and no Link', async () => {
    const p = await fetchPage(`/v2/${repo}/tags/list?n=0`, 'tags');
    expect(p.items).toEqual([]);
    check(p.reply, p.next === undefined, 'n=0 must not include a Link header');
  });

  for (const n of BAD_N) {
    test(`n=${n} → 400 with an OCI error`, async () => {
      expectOciError(await client.get(`/v2/${repo}/tags/list?n=${encodeURIComponent(n)}`), 400, BAD_N_CODES);
    });
  }

  test(
    `with ${BIG_COUNT} tags, n=1000000000 returns a bounded page (≤ ${CAP}) with Link rel="next", and the walk covers every tag once`,
    async () => {
      const tags = Array.from({ length: BIG_COUNT }, (_, i) => `t${String(i).padStart(6, '0')}`);
      await pushManifestUnderTags(bigRepo, tags, 16);
      // What keeps a huge n cheap is the cap on the page, checked here; not how fast this machine answers.
      const first = await fetchPage(`/v2/${bigRepo}/tags/list?n=1000000000`, 'tags');
      check(first.reply, first.items.length <= CAP, `page has ${first.items.length} > ${CAP} entries`);
      check(first.reply, first.items.length < BIG_COUNT, 'all tags in one page: no cap applied to n');
      check(first.reply, first.next !== undefined, 'short page without Link rel="next"');
      const all = await walkLinks(`/v2/${bigRepo}/tags/list?n=1000000000`, 'tags', CAP);
      expect(all.length).toBe(BIG_COUNT);
      expect(all).toEqual(tags);
      // 10,010 manifest pushes: a bound for a hung server, not a speed requirement (2 loaded cores can be slow).
    },
    15 * 60_000,
  );
});

describe('catalog pagination', () => {
  test('n=7 walks (last and Link) list every repository exactly once, in lexical order', async () => {
    for (const all of [await walkLast('/v2/_catalog', 'repositories', 7), await walkLinks('/v2/_catalog?n=7', 'repositories', 7)]) {
      expectStrictlyAscending(all, '_catalog walk');
      expect(all.filter((r) => r.startsWith(`${catalogPrefix}-`))).toEqual(REPOS);
      expect(all).toContain(repo);
    }
  });

  test('n=1000000000 answers with a bounded page; without Link it is the whole catalog', async () => {
    const p = await fetchPage('/v2/_catalog?n=1000000000', 'repositories');
    check(p.reply, p.items.length <= CAP, `page has ${p.items.length} > ${CAP} entries`);
    expectStrictlyAscending(p.items, '_catalog page');
    const all = await walkLinks('/v2/_catalog?n=1000000000', 'repositories', CAP);
    expect(all.filter((r) => r.startsWith(`${catalogPrefix}-`))).toEqual(REPOS);
  });

  test('last=<one of ours> continues right after it', async () => {
    const p = await fetchPage(`/v2/_catalog?n=3&last=${encodeURIComponent(REPOS[10]!)}`, 'repositories');
    expect(p.items).toEqual(REPOS.slice(11, 14));
  });

  test('n=0 → 200, an empty list and no Link', async () => {
    const p = await fetchPage('/v2/_catalog?n=0', 'repositories');
    expect(p.items).toEqual([]);
    check(p.reply, p.next === undefined, 'n=0 must not include a Link header');
  });

  for (const n of BAD_N) {
    test(`n=${n} → 400 with an OCI error`, async () => {
      expectOciError(await client.get(`/v2/_catalog?n=${encodeURIComponent(n)}`), 400, BAD_N_CODES);
    });
  }
});
