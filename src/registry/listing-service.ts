import { RegistryError } from '../oci/errors';
import type { MetadataIndex } from '../metadata/metadata-index';

/** A page request as the client sent it (`n`, `last`). */
export interface PageQuery {
  n?: string;
  last?: string;
}

export interface ListPage {
  entries: string[];
  /** Set when more entries may follow: the `last` of the next page, and its size. */
  next: { last: string; n: number } | null;
}

/**
 * Tag and catalog listings. Every page is bounded by `maxPage`, whatever
 * `n` the client asks for, so no request can make the registry build an
 * unbounded answer; clients follow the Link header for the rest.
 */
export class ListingService {
  constructor(
    private readonly index: MetadataIndex,
    private readonly maxPage: number,
  ) {}

  async tags(repository: string, query: PageQuery): Promise<ListPage> {
    if (!(await this.index.repositoryExists(repository))) throw new RegistryError('NAME_UNKNOWN', { name: repository });
    return this.page(query, (last, limit) => this.index.listTags(repository, { last, limit }));
  }

  /**
   * The catalog; with `visible`, only what the caller may see. Filtering
   * happens page by page, so hidden repositories never make a page short
   * by more than the scan bound allows.
   */
  async repositories(query: PageQuery, visible?: (name: string) => Promise<boolean>): Promise<ListPage> {
    if (!visible) return this.page(query, (last, limit) => this.index.listRepositories({ last, limit }));
    return this.page(query, async (last, limit) => {
      const out: string[] = [];
      let cursor = last;
      // Bounded: at most 20 scans of the index per request, whatever is hidden.
      for (let scan = 0; scan < 20 && out.length < limit; scan++) {
        const batch = await this.index.listRepositories({ last: cursor, limit });
        for (const name of batch) {
          if (out.length >= limit) break;
          if (await visible(name)) out.push(name);
        }
        if (batch.length < limit) break;
        cursor = batch[batch.length - 1];
      }
      return out;
    });
  }

  private async page(query: PageQuery, fetch: (last: string | undefined, limit: number) => Promise<string[]>): Promise<ListPage> {
    const requested = parseN(query.n);
    const n = Math.min(requested ?? this.maxPage, this.maxPage);
    if (n === 0) return { entries: [], next: null };
    // One extra row tells whether a next page exists without a second query.
    const rows = await fetch(query.last, n + 1);
    const entries = rows.slice(0, n);
    const more = rows.length > n;
    const last = entries[entries.length - 1];
    return { entries, next: more && last !== undefined ? { last, n: requested === undefined ? n : Math.min(requested, this.maxPage) } : null };
  }
}

function parseN(n: string | undefined): number | undefined {
  if (n === undefined || n === '') return undefined;
  if (!/^\d{1,15}$/.test(n)) throw new RegistryError('PAGINATION_NUMBER_INVALID', `n must be a non-negative integer: ${n}`);
  return Number(n);
}
