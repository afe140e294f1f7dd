import type { Actor } from '../auth/management/actor';
import type { SearchAccess, SearchHit, SearchIndex } from './search-index';
import { parseSearchQuery } from './search-query';

/** Who may see which packages, as ids the index can filter by (src/search/identity-search-access.ts). */
export interface SearchAccessResolver {
  access(actor: Actor): Promise<SearchAccess>;
}

export interface SearchPage {
  total: number;
  hits: SearchHit[];
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

  /** `page` from 1; `perPage` as the edge allowed it. */
  async search(actor: Actor, q: string, page: number, perPage: number): Promise<SearchPage> {
    const parsed = parseSearchQuery(q);
    const access = await this.resolver.access(actor);
    return this.index.search({ ...parsed, access, offset: (page - 1) * perPage, limit: perPage });
  }
}

/** Open mode (auth `none`): every package is everyone's to pull, so everyone may find it. */
export const OPEN_ACCESS: SearchAccessResolver = { access: () => Promise.resolve({ kind: 'all' }) };
