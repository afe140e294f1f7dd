import { RepositoryUnknown, PageSizeInvalid, PageCursorInvalid } from './errors';
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

/** Index rows read per query while skipping hidden repositories. */
const SCAN_BATCH = 100;
/** Names examined per catalog request at most, whatever is hidden: the cost bound of one page. */
const DEFAULT_SCAN_BUDGET = 1000;

/**
 * Seals a catalog scan position the caller may not be allowed to see, so the
 * next page's Link can carry it without naming it. Sealed positions start
 * with `~`, which no repository name can.
 */
export interface CursorSeal {
  seal(position: string): Promise<string>;
  /** The position, or null when the seal is not one of ours (tampered, or from a rotated key). */
  open(sealed: string): Promise<string | null>;
}

export const SEALED_CURSOR_PREFIX = '~';

/** The part of the metadata index listings read. */
export type ListingIndex = Pick<MetadataIndex, 'repositoryExists' | 'listTags' | 'listRepositories'>;

/**
 * Tag and catalog listings. Every page is bounded by `maxPage`, whatever
 * `n` the client asks for, so no request can make the registry build an
 * unbounded answer; clients follow the Link header for the rest.
 */
export class ListingService {
  constructor(
    private readonly index: ListingIndex,
    private readonly maxPage: number,
    private readonly scanBudget = DEFAULT_SCAN_BUDGET,
    private readonly cursors?: CursorSeal,
  ) {}

  async tags(repository: string, query: PageQuery): Promise<ListPage> {
    if (!(await this.index.repositoryExists(repository))) throw new RepositoryUnknown({ name: repository });
    return this.page(query, (last, limit) => this.index.listTags(repository, { last, limit }));
  }

  /**
   * The catalog; with `visible`, only what the caller may see. Hidden
   * repositories are skipped by scanning the index, at most `scanBudget`
   * names per request; a page that runs out of budget before it is full
   * still links to the next one, from where the scan stopped, so a client
   * following `Link` sees every visible repository exactly once and never
   * stops early while more remain.
   */
  async repositories(query: PageQuery, visible?: (name: string) => Promise<boolean>): Promise<ListPage> {
    if (!visible) return this.page(query, (last, limit) => this.index.listRepositories({ last, limit }));
    const n = this.size(query);
    if (n === 0) return { entries: [], next: null };
    const entries: string[] = [];
    let cursor = await this.openCursor(query.last);
    let scanned = 0;
    for (;;) {
      const batch = await this.index.listRepositories({ last: cursor, limit: SCAN_BATCH });
      for (const name of batch) {
        // A full page with one more name behind it: link on from the last name listed.
        if (entries.length === n) return { entries, next: { last: entries[n - 1] as string, n } };
        // The budget spent with names still unscanned: link on from the scan position, sealed, since that
        // name may be one the caller cannot see (the alternative is a client that stops early).
        if (scanned >= this.scanBudget && cursor !== undefined) {
          return { entries, next: { last: this.cursors ? await this.cursors.seal(cursor) : cursor, n } };
        }
        scanned += 1;
        cursor = name;
        if (await visible(name)) entries.push(name);
      }
      if (batch.length < SCAN_BATCH) return { entries, next: null };
    }
  }

  private async openCursor(last: string | undefined): Promise<string | undefined> {
    if (!this.cursors || last === undefined || !last.startsWith(SEALED_CURSOR_PREFIX)) return last;
    const opened = await this.cursors.open(last);
    if (opened === null) throw new PageCursorInvalid('this page link is no longer valid; list the catalog from the start');
    return opened;
  }

  /** The page size to serve (and that its Link repeats): the client's `n`, bounded by `maxPage`. */
  private size(query: PageQuery): number {
    return Math.min(parseN(query.n) ?? this.maxPage, this.maxPage);
  }

  private async page(query: PageQuery, fetch: (last: string | undefined, limit: number) => Promise<string[]>): Promise<ListPage> {
    const n = this.size(query);
    if (n === 0) return { entries: [], next: null };
    // One extra row tells whether a next page exists without a second query.
    const rows = await fetch(query.last, n + 1);
    const entries = rows.slice(0, n);
    const more = rows.length > n;
    const last = entries[entries.length - 1];
    return { entries, next: more && last !== undefined ? { last, n } : null };
  }
}

function parseN(n: string | undefined): number | undefined {
  if (n === undefined || n === '') return undefined;
  if (!/^\d{1,15}$/.test(n)) throw new PageSizeInvalid(`n must be a non-negative integer: ${n}`);
  return Number(n);
}
