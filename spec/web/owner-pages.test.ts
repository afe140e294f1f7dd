import type { IdentityService } from '../../src/auth/identity-service';
import type { PackageVersionService } from '../../src/auth/management/package-version-service';
import { ANONYMOUS } from '../../src/auth/principal';
import type { SearchHit } from '../../src/search/search-index';
import type { SearchListing, SearchService } from '../../src/search/search-service';
import { OWNER_PER_PAGE, OwnerPages } from '../../src/web/owner-pages';

/**
 * An owner page asks the search service for its one page, filtered and
 * sorted there (issue #17 follow-up): an owner of 10k packages costs one
 * search of 30 rows, not 100 searches of 100 rows sorted in memory.
 */
const TOTAL = 10_000;
const hit = (i: number): SearchHit => ({
  name: `big/p${i}`,
  owner: 'big',
  ownerKind: 'org',
  visibility: 'public',
  description: null,
  updatedAt: i,
  downloads: 0,
  latestTag: null,
});

it('reads one page of an owner with 10k packages through one search, with the filters and order in the query', async () => {
  const calls: Array<{ q: string; page: number; perPage: number; list: SearchListing | undefined }> = [];
  const search = {
    search: (_actor: unknown, q: string, page: number, perPage: number, list?: SearchListing) => {
      calls.push({ q, page, perPage, list });
      const start = (page - 1) * perPage;
      return Promise.resolve({ total: TOTAL, hits: Array.from({ length: Math.min(perPage, TOTAL - start) }, (_, i) => hit(start + i)) });
    },
  } as unknown as SearchService;
  const packages = { owner: (name: string) => Promise.resolve({ name, kind: 'org' }) } as unknown as PackageVersionService;
  const management = {
    accounts: { org: () => Promise.resolve({ members: null }) },
    repositories: { list: () => Promise.resolve([]) },
  } as unknown as IdentityService;
  const pages = new OwnerPages({ search, packages, management });

  const page = await pages.ownerPage(ANONYMOUS, 'big', 'org', { visibility: 'public', tagged: false, sort: 'name', page: 3 });

  expect(calls).toEqual([{ q: 'org:big is:public', page: 3, perPage: OWNER_PER_PAGE, list: { order: 'name', tagged: false } }]);
  expect(page.total).toBe(TOTAL);
  expect(page.pages).toBe(Math.ceil(TOTAL / OWNER_PER_PAGE));
  expect(page.packages.map((p) => p.name)).toEqual(Array.from({ length: OWNER_PER_PAGE }, (_, i) => `big/p${2 * OWNER_PER_PAGE + i}`));
});
