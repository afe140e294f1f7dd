import { blob } from '../support/oci';
import { expectOciError, pushBlob, pushImage, pushManifest } from '../support/http';
import { startTestRegistry, type TestRegistry } from '../support/registry';

/** Small so that the page cap is reachable. */
const MAX_PAGE = 3;
let t: TestRegistry;

const TAGS = ['a', 'b', 'c', 'd', 'e'];
const REPOS = ['list/empty-after-delete', 'list/tags', 'list/y-blob', 'list/z-blob-only', 'zz/last'];

beforeAll(async () => {
  t = await startTestRegistry({ maxPageSize: MAX_PAGE });
  const m = await pushImage(t.http, 'list/tags', null);
  const body = JSON.parse(m.content.toString()) as Record<string, unknown>;
  // Pushed out of order: listings are lexical whatever the push order.
  for (const tag of ['d', 'b', 'e', 'a', 'c']) await pushManifest(t.http, 'list/tags', tag, body);
  await pushBlob(t.http, 'list/z-blob-only', blob('only a blob here'));
  await pushBlob(t.http, 'list/y-blob', blob('another lone blob'));
  await pushImage(t.http, 'zz/last', 'v1');
  // Emptied of its manifest and then its blobs: no longer in the catalog.
  const gone = await pushImage(t.http, 'list/empty-after-delete', 'v1');
  for (const path of [`manifests/${gone.digest}`, `blobs/${gone.config.digest}`, `blobs/${gone.layer.digest}`]) {
    expect((await t.http.delete(`/v2/list/empty-after-delete/${path}`)).status).toBe(202);
  }
});

afterAll(async () => {
  await t.close();
});

describe('GET /v2/<name>/tags/list', () => {
  it('lists tags in lexical order with a Link when n cuts the list short', async () => {
    const res = await t.http.get('/v2/list/tags/tags/list?n=2');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: 'list/tags', tags: ['a', 'b'] });
    expect(res.headers.link).toBe('</v2/list/tags/tags/list?n=2&last=b>; rel="next"');
  });

  it('continues after last', async () => {
    const res = await t.http.get('/v2/list/tags/tags/list?n=2&last=b');
    expect(res.body.tags).toEqual(['c', 'd']);
    expect(res.headers.link).toBe('</v2/list/tags/tags/list?n=2&last=d>; rel="next"');
    const end = await t.http.get('/v2/list/tags/tags/list?n=2&last=d');
    expect(end.body.tags).toEqual(['e']);
    expect(end.headers.link).toBeUndefined();
  });

  it('gives no Link when the page holds exactly the rest', async () => {
    const res = await t.http.get('/v2/list/tags/tags/list?n=2&last=c');
    expect(res.body.tags).toEqual(['d', 'e']);
    expect(res.headers.link).toBeUndefined();
  });

  it('accepts a last that is not itself a tag', async () => {
    expect((await t.http.get('/v2/list/tags/tags/list?last=bb')).body.tags).toEqual(['c', 'd', 'e']);
  });

  it('returns an empty list for n=0', async () => {
    const res = await t.http.get('/v2/list/tags/tags/list?n=0');
    expect(res.status).toBe(200);
    expect(res.body.tags).toEqual([]);
    expect(res.headers.link).toBeUndefined();
  });

  it(`caps a page at maxPageSize (${MAX_PAGE}) whatever n asks, linking onwards`, async () => {
    const res = await t.http.get('/v2/list/tags/tags/list?n=100');
    expect(res.body.tags).toEqual(TAGS.slice(0, MAX_PAGE));
    expect(res.headers.link).toBe(`</v2/list/tags/tags/list?n=${MAX_PAGE}&last=c>; rel="next"`);
  });

  it('caps a page without n too, and following the Links yields every tag once', async () => {
    const seen: string[] = [];
    let next: string | undefined = '/v2/list/tags/tags/list';
    for (let pages = 0; next !== undefined; pages++) {
      expect(pages).toBeLessThan(10);
      const res = await t.http.get(next);
      expect(res.body.tags.length).toBeLessThanOrEqual(MAX_PAGE);
      seen.push(...(res.body.tags as string[]));
      next = res.headers.link?.match(/^<([^>]+)>; rel="next"$/)?.[1];
    }
    expect(seen).toEqual(TAGS);
  });

  it.each(['-1', 'abc', '1.5', '1e3'])('refuses n=%s with 400', async (n) => {
    expectOciError(await t.http.get(`/v2/list/tags/tags/list?n=${n}`), 400, 'PAGINATION_NUMBER_INVALID');
  });

  it('answers an unknown repository with 404 NAME_UNKNOWN', async () => {
    expectOciError(await t.http.get('/v2/list/nothing/tags/list'), 404, 'NAME_UNKNOWN');
  });

  it('lists no tags for a repository holding only blobs', async () => {
    const res = await t.http.get('/v2/list/z-blob-only/tags/list');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: 'list/z-blob-only', tags: [] });
  });
});

describe('GET /v2/_catalog', () => {
  const live = REPOS.filter((r) => r !== 'list/empty-after-delete');

  it('lists repositories holding manifests or blobs, in lexical order, capped at maxPageSize', async () => {
    const res = await t.http.get('/v2/_catalog');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ repositories: live.slice(0, MAX_PAGE) });
    expect(res.headers.link).toBe(`</v2/_catalog?n=${MAX_PAGE}&last=${encodeURIComponent(live[MAX_PAGE - 1]!)}>; rel="next"`);
  });

  it('pages with n and last', async () => {
    const first = await t.http.get('/v2/_catalog?n=1');
    expect(first.body.repositories).toEqual([live[0]]);
    expect(first.headers.link).toBe(`</v2/_catalog?n=1&last=${encodeURIComponent(live[0]!)}>; rel="next"`);
    const rest = await t.http.get(`/v2/_catalog?n=10&last=${encodeURIComponent(live[0]!)}`);
    expect(rest.body.repositories).toEqual(live.slice(1, 1 + MAX_PAGE));
    const end = await t.http.get(`/v2/_catalog?last=${encodeURIComponent(live[1]!)}`);
    expect(end.body.repositories).toEqual(live.slice(2));
    expect(end.headers.link).toBeUndefined();
  });

  it('refuses an invalid n with 400', async () => {
    expectOciError(await t.http.get('/v2/_catalog?n=many'), 400, 'PAGINATION_NUMBER_INVALID');
  });
});
