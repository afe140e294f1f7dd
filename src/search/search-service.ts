import type { Actor } from '../auth/management/actor';
import type { PackageOrder, SearchAccess, SearchHit, SearchIndex } from './search-index';
import { parseSearchQuery } from './search-query';

/** Who may see which packages, as ids the index can filter by (src/search/identity-search-access.ts). */
export interface SearchAccessResolver {
  access(actor: Actor): Promise<SearchAccess>;
}

export interface SearchPage {
  total: number;
  hits: SearchHit[];
}

/** What a list of packages asks beyond a query. */
export interface SearchListing {
  order?: PackageOrder;
  tagged?: boolean;
}

/**
 * Package search: reads the query (src/search/search-query.ts), resolves
 * what the caller may see, and asks the index for one page. The caller's
 * access is part of the index query itself, so what they may not see is
 * neither counted nor ranked: an outsider typing a private package's exact
 * name gets a total of 0.
 */
export class SearchService {
  constructor(
    private readonly index: SearchIndex,
    private readonly resolver: SearchAccessResolver,
  ) {}

  /** `page` from 1; `perPage` as the edge allowed it; `list`: an order other than relevance, and tagged or untagged only (the owner pages). */
  async search(actor: Actor, q: string, page: number, perPage: number, list: SearchListing = {}): Promise<SearchPage> {
    const parsed = parseSearchQuery(q);
    const access = await this.resolver.access(actor);
    const filter = list.tagged === undefined ? parsed.filter : { ...parsed.filter, tagged: list.tagged };
    return this.index.search({
      ...parsed,
      filter,
      access,
      ...(list.order ? { order: list.order } : {}),
      offset: (page - 1) * perPage,
      limit: perPage,
    });
  }
}

/** Open mode (auth `none`): every package is everyone's to pull, so everyone may find it. */
export const OPEN_ACCESS: SearchAccessResolver = { access: () => Promise.resolve({ kind: 'all' }) };
