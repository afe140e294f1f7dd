import type { Database, Queryable, SqlValue } from '../../persistence/database';
import type {
  IndexQuery,
  IndexStamp,
  PackageOrder,
  SearchAccess,
  SearchDocument,
  SearchFilter,
  SearchHit,
  SearchIndex,
  Visibility,
} from '../search-index';
import { nameSegments, prefixEnd, shortName, wordsOf } from '../search-text';
import { onePassMatch, type SqlPart } from './one-pass-text-match';

/** Rows per multi-row INSERT: few statements per document, far below either driver's parameter limit. */
const ROWS_PER_STATEMENT = 200;
/** What of the free text the full-text body keeps: a pusher's description cannot grow the index without bound. */
const MAX_BODY_CHARS = 16_384;
/** The labels whose values are searched as text (others only by `label:KEY=VALUE`). */
const TEXT_LABELS = [
  'org.opencontainers.image.title',
  'org.opencontainers.image.vendor',
  'org.opencontainers.image.licenses',
  'org.opencontainers.image.source',
];

interface HitRow {
  name: string;
  owner: string;
  owner_kind: 'user' | 'org';
  visibility: Visibility;
  description: string | null;
  updated_at: number | string;
  downloads: number | string;
  latest_tag: string | null;
  n: number | string;
}

type Where = SqlPart;
/** A page's rows, and how to count every match when the page has none to count with (a page past the end). */
interface Paged {
  rows: HitRow[];
  count: () => Promise<{ n: number | string } | undefined>;
}

const HIT_COLUMNS = 'd.name, d.owner, d.owner_kind, d.visibility, d.description, d.updated_at, d.downloads, d.latest_tag';
/**
 * The page's rows read whole. CROSS JOIN keeps the page first on SQLite: not knowing that `LIMIT ?`
 * leaves few rows, it scanned the whole ranking index and probed the page instead (11 ms, not 0.1).
 * PostgreSQL reads it as the inner join it is.
 */
const PAGE_ROWS = 'page p CROSS JOIN search_documents d WHERE d.id = p.id';
/** The WHERE that lets everything through. */
const ALL = '1 = 1';
const TIE_ORDER = 'd.downloads DESC, d.updated_at DESC, d.name';
/** The orders a list may ask for instead of relevance (the owner pages). */
const ORDERS: Readonly<Record<PackageOrder, string>> = {
  downloads: TIE_ORDER,
  updated: 'd.updated_at DESC, d.name',
  name: 'd.name',
};

/** The order of text matches, by the tier and score of `matched` (a row of the best match per document), then ties. */
function textOrder(matched: string): string {
  return `${matched}.tier, CASE WHEN ${matched}.tier = 3 THEN ${matched}.score ELSE CAST(0 AS REAL) END, ${TIE_ORDER}`;
}

/**
 * The search index on SQLite (FTS5) or PostgreSQL (tsvector, GIN); tables
 * from SEARCH_MIGRATIONS. Full text is the one part written per dialect
 * (see Database): the rest of each query is shared.
 */
export class SqlSearchIndex implements SearchIndex {
  constructor(private readonly db: Database) {}

  async put(document: SearchDocument): Promise<void> {
    await this.db.transaction((tx) => this.write(tx, document));
  }

  /**
   * Stores many documents, each as `put` would, in one transaction: a bulk
   * (re)index pays one commit instead of one per package (the search bench
   * fills 100k packages through it).
   */
  async putAll(documents: readonly SearchDocument[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const document of documents) await this.write(tx, document);
    });
  }

  private async write(tx: Queryable, document: SearchDocument): Promise<void> {
    const nameText = wordsOf(document.name).join(' ');
    const bodyText = bodyOf(document);
    const id = await this.upsertDocument(tx, document, nameText, bodyText);
    // A stored document read later than this one wins: nothing of this one is written.
    if (id === null) return;
    await deleteSideRows(tx, id);
    await insertRows(
      tx,
      'search_segments (segment, doc_id)',
      nameSegments(document.name).map((s) => [s, id]),
    );
    await insertRows(
      tx,
      'search_digests (digest, doc_id)',
      [...new Set(document.digests.map(digestHex))].map((d) => [d, id]),
    );
    await insertRows(
      tx,
      'search_tags (doc_id, tag)',
      [...new Set(document.tags)].map((t) => [id, t]),
    );
    await insertRows(
      tx,
      'search_labels (doc_id, key, value)',
      Object.entries(document.labels).map(([k, v]) => [id, k, v]),
    );
    await insertRows(
      tx,
      'search_platforms (doc_id, platform)',
      [...new Set(document.platforms)].map((p) => [id, p]),
    );
    if (this.db.dialect === 'sqlite') {
      await tx.run('DELETE FROM search_fts WHERE rowid = ?', [id]);
      await tx.run('INSERT INTO search_fts (rowid, name, body) VALUES (?, ?, ?)', [id, nameText, bodyText]);
    }
  }

  async remove(name: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const row = await tx.get<{ id: number | string }>('SELECT id FROM search_documents WHERE name = ?', [name]);
      if (!row) return;
      const id = Number(row.id);
      await deleteSideRows(tx, id);
      if (this.db.dialect === 'sqlite') await tx.run('DELETE FROM search_fts WHERE rowid = ?', [id]);
      await tx.run('DELETE FROM search_documents WHERE id = ?', [id]);
    });
  }

  async setDownloads(name: string, downloads: number): Promise<void> {
    await this.db.run('UPDATE search_documents SET downloads = ? WHERE name = ?', [downloads, name]);
  }

  async search(query: IndexQuery): Promise<{ total: number; hits: SearchHit[] }> {
    if (query.access.kind === 'none') return { total: 0, hits: [] };
    const matches = this.matches(query);
    const where = conditions(query.access, query.filter, matches !== null, this.db.dialect);
    // One statement counts (a window over every match) and pages; only a page past the end counts again.
    const { rows, count } =
      matches === null
        ? await this.listingPage(query, where)
        : this.db.dialect === 'postgres'
          ? await this.onePassTextPage(query, where)
          : await this.textPage(query, where, matches);
    const counted = rows[0] && Number(rows[0].n) >= 0 ? { n: rows[0].n } : undefined;
    const total = counted ?? (rows.length === 0 && query.offset === 0 ? { n: 0 } : await count());
    return {
      total: Number(total?.n ?? 0),
      hits: rows.map((r) => ({
        name: r.name,
        owner: r.owner,
        ownerKind: r.owner_kind,
        visibility: r.visibility,
        description: r.description,
        updatedAt: Number(r.updated_at),
        downloads: Number(r.downloads),
        latestTag: r.latest_tag,
      })),
    };
  }

  /** What filters and counts reads the narrow covering index (migration 2). SQLite would look each match up by rowid in the wide rows instead: told, it counted 1.7k of 5k candidates ~3x faster. */
  private narrow(): string {
    return `search_documents d${this.db.dialect === 'sqlite' ? ' INDEXED BY search_documents_narrow' : ''}`;
  }

  /**
   * No text: the page comes from the ranking index and stops after `limit` rows; a window count
   * would make it sort every visible package first. With a tag, label or platform qualifier, its
   * side rows name the candidates: those are filtered and sorted on the narrow index, and only the
   * page is read whole.
   */
  private async listingPage(query: IndexQuery, where: Where): Promise<Paged> {
    const sided = query.filter.tags.length + query.filter.labels.length + query.filter.platforms.length > 0;
    const order = ORDERS[query.order ?? 'downloads'];
    const page = `SELECT d.id FROM ${sided ? this.narrow() : 'search_documents d'} WHERE ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`;
    const rows = await this.db.all<HitRow>(`WITH page AS (${page}) SELECT ${HIT_COLUMNS}, -1 AS n FROM ${PAGE_ROWS} ORDER BY ${order}`, [
      ...where.params,
      query.limit,
      query.offset,
    ]);
    // Unfiltered, SQLite counts through its smallest index by itself.
    const counted = where.sql === ALL ? 'search_documents d' : this.narrow();
    return { rows, count: () => this.db.get(`SELECT COUNT(*) AS n FROM ${counted} WHERE ${where.sql}`, where.params) };
  }

  /**
   * Text on SQLite: each kind of match names candidate documents with its tier; a document keeps
   * its best. Relevance orders the text tier only: name matches go by downloads and recency. Every
   * match is filtered, counted and sorted on the narrow columns; only the page's rows are read
   * whole, descriptions and all.
   */
  private async textPage(query: IndexQuery, where: Where, matches: Where): Promise<Paged> {
    const ranked = `WITH hits (doc_id, tier, score) AS (${matches.sql}),
        best AS (SELECT doc_id, MIN(tier) AS tier, MIN(score) AS score FROM hits GROUP BY doc_id)`;
    const from = `FROM best b JOIN ${this.narrow()} ON d.id = b.doc_id WHERE ${where.sql}`;
    const order = (matched: string) => (query.order ? ORDERS[query.order] : textOrder(matched));
    const rows = await this.db.all<HitRow>(
      `${ranked}, page AS (SELECT d.id, b.tier, b.score, COUNT(*) OVER () AS n ${from} ORDER BY ${order('b')} LIMIT ? OFFSET ?)
          SELECT ${HIT_COLUMNS}, p.n FROM ${PAGE_ROWS} ORDER BY ${order('p')}`,
      [...matches.params, ...where.params, query.limit, query.offset],
    );
    return { rows, count: () => this.db.get(`${ranked} SELECT COUNT(*) AS n ${from}`, [...matches.params, ...where.params]) };
  }

  /**
   * Text on PostgreSQL, in one pass over search_documents: the rows any match names (a BitmapOr of
   * the name, short name, full-text and id indexes) are read once each, filtered, given their tier
   * and sorted from their own columns. The candidate union of textPage probed the narrow index for
   * each of 10k matches of a common name segment (~45 of its 108 ms) and grouped 28k candidate rows.
   * The same tiers and order: see onePassMatch.
   */
  private async onePassTextPage(query: IndexQuery, where: Where): Promise<Paged> {
    const match = onePassMatch(query);
    // Tier and rank computed as each row is read (MATERIALIZED: PostgreSQL otherwise put off the
    // costly ts_rank and carried the tsvector, ~300 bytes a row, into the window's buffer of every
    // match, which then spilled to disk at 9k matches).
    const matched = `SELECT d.id, d.downloads, d.updated_at, d.name, ${match.tier.sql} AS tier, ${match.rank.sql} AS rank_key
      FROM search_documents d WHERE (${match.rows.sql}) AND ${where.sql}`;
    const params = [...match.tier.params, ...match.rank.params, ...match.rows.params, ...where.params];
    const order = (at: string) => (query.order ? ORDERS[query.order] : `${at}.tier, ${at}.rank_key, ${TIE_ORDER}`);
    const rows = await this.db.all<HitRow>(
      `WITH matched AS MATERIALIZED (${matched}),
        page AS (SELECT d.id, d.tier, d.rank_key, COUNT(*) OVER () AS n FROM matched d ORDER BY ${order('d')} LIMIT ? OFFSET ?)
        SELECT ${HIT_COLUMNS}, p.n FROM ${PAGE_ROWS} ORDER BY ${order('p')}`,
      [...params, query.limit, query.offset],
    );
    return { rows, count: () => this.db.get(`SELECT COUNT(*) AS n FROM (${matched}) d`, params) };
  }

  async stamps(): Promise<Map<string, IndexStamp>> {
    const rows = await this.db.all<{
      name: string;
      indexed_at: number | string;
      visibility: Visibility;
      owner_id: number | string;
      repository_id: number | string | null;
    }>('SELECT name, indexed_at, visibility, owner_id, repository_id FROM search_documents');
    return new Map(
      rows.map((r) => [
        r.name,
        {
          indexedAt: Number(r.indexed_at),
          visibility: r.visibility,
          ownerId: Number(r.owner_id),
          repositoryId: r.repository_id === null ? null : Number(r.repository_id),
        },
      ]),
    );
  }

  /** The candidate documents as `(doc_id, tier, score)`: 0 exact name, 1 name prefix, 2 name segment, 3 text or digest. */
  private matches(query: IndexQuery): SqlPart | null {
    const parts: string[] = [];
    const params: SqlValue[] = [];
    const zero = 'CAST(0 AS REAL)';
    if (query.phrase !== '') {
      const end = prefixEnd(query.phrase);
      parts.push(
        `SELECT id, 0, ${zero} FROM search_documents WHERE name = ? OR short_name = ?`,
        `SELECT id, 1, ${zero} FROM search_documents WHERE name >= ? AND name < ?`,
        `SELECT id, 1, ${zero} FROM search_documents WHERE short_name >= ? AND short_name < ?`,
        `SELECT doc_id, 2, ${zero} FROM search_segments WHERE segment = ?`,
      );
      params.push(query.phrase, query.phrase, query.phrase, end, query.phrase, end, query.phrase);
    }
    if (query.words.length > 0) {
      if (this.db.dialect === 'sqlite') {
        // Each word quoted: FTS5 operators (AND, NEAR, column filters) in the text stay words.
        // The rank column, not bm25(): the function fails where SQLite flattens this into the outer query.
        parts.push(`SELECT rowid, 3, rank FROM search_fts WHERE search_fts MATCH ? AND rank MATCH 'bm25(10.0, 1.0)'`);
        params.push(query.words.map((w) => `"${w}"`).join(' '));
      } else {
        // Words are letters and digits only, so joining them with & is a well-formed tsquery.
        parts.push(
          `SELECT id, 3, CAST(-ts_rank(tsv, to_tsquery('simple', ?)) AS REAL) FROM search_documents WHERE tsv @@ to_tsquery('simple', ?)`,
        );
        const tsquery = query.words.join(' & ');
        params.push(tsquery, tsquery);
      }
    }
    if (query.digestPrefix !== undefined) {
      parts.push(`SELECT doc_id, 3, ${zero} FROM search_digests WHERE digest >= ? AND digest < ?`);
      params.push(query.digestPrefix, prefixEnd(query.digestPrefix));
    }
    return parts.length === 0 ? null : { sql: parts.join(' UNION ALL '), params };
  }

  private async upsertDocument(tx: Queryable, d: SearchDocument, nameText: string, bodyText: string): Promise<number | null> {
    const columns =
      'name, short_name, owner, owner_kind, owner_id, repository, repository_id, repository_owner_id, visibility, description, downloads, updated_at, latest_tag, indexed_at';
    const updates = columns
      .split(', ')
      .slice(1)
      .map((c) => `${c} = excluded.${c}`);
    const params: SqlValue[] = [
      d.name,
      shortName(d.name),
      d.owner,
      d.ownerKind,
      d.ownerId,
      d.repository?.fullName ?? null,
      d.repository?.id ?? null,
      d.repository?.ownerId ?? null,
      d.visibility,
      d.description,
      d.downloads,
      d.updatedAt,
      d.latestTag,
      d.indexedAt,
    ];
    const tsv = this.db.dialect === 'postgres';
    const sql = `INSERT INTO search_documents (${columns}${tsv ? ', tsv' : ''})
      VALUES (${params.map(() => '?').join(', ')}${tsv ? ", setweight(to_tsvector('simple', ?), 'A') || setweight(to_tsvector('simple', ?), 'B')" : ''})
      ON CONFLICT (name) DO UPDATE SET ${[...updates, ...(tsv ? ['tsv = excluded.tsv'] : [])].join(', ')}
      WHERE search_documents.indexed_at <= excluded.indexed_at
      RETURNING id`;
    const row = await tx.get<{ id: number | string }>(sql, tsv ? [...params, nameText, bodyText] : params);
    return row ? Number(row.id) : null;
  }
}

/** The WHERE of every search: what the caller may see, then the qualifiers; `withText`: text names the candidates. */
function conditions(access: SearchAccess, filter: SearchFilter, withText: boolean, dialect: Database['dialect']): Where {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  if (access.kind === 'some') {
    const visible = ["d.visibility = 'public'"];
    if (access.ownerIds.length > 0) {
      visible.push(`(d.repository_id IS NULL AND d.owner_id IN (${marks(access.ownerIds)}))`);
      params.push(...access.ownerIds);
    }
    if (access.repositoryOwnerIds.length > 0) {
      visible.push(`d.repository_owner_id IN (${marks(access.repositoryOwnerIds)})`);
      params.push(...access.repositoryOwnerIds);
    }
    if (access.repositoryIds.length > 0) {
      visible.push(`d.repository_id IN (${marks(access.repositoryIds)})`);
      params.push(...access.repositoryIds);
    }
    parts.push(`(${visible.join(' OR ')})`);
  }
  if (filter.owner) {
    parts.push('d.owner = ? AND d.owner_kind = ?');
    params.push(filter.owner.name, filter.owner.kind);
  }
  if (filter.repository !== undefined) {
    parts.push('d.repository = ?');
    params.push(filter.repository);
  }
  if (filter.visibility !== undefined) {
    parts.push('d.visibility = ?');
    params.push(filter.visibility);
  }
  if (filter.tagged !== undefined) parts.push(filter.tagged ? 'd.latest_tag IS NOT NULL' : 'd.latest_tag IS NULL');
  // Qualifiers on side rows, tags first (the most selective as a rule, platforms the least). Each is
  // a lookup by (value, document) per candidate; without text, the first instead names the
  // candidates (SQLite reads an IN list as the rows to start from). Listing every side row of a
  // common value as IN for each candidate made `label:` + a word ~8x slower.
  const sides: Array<{ table: string; match: string; values: SqlValue[] }> = [
    ...filter.tags.map((tag) => ({ table: 'search_tags', match: 'tag = ?', values: [tag] })),
    ...filter.labels.map(({ key, value }) => ({ table: 'search_labels', match: 'key = ? AND value = ?', values: [key, value] })),
    ...filter.platforms.map((platform) => ({ table: 'search_platforms', match: 'platform = ?', values: [platform] })),
  ];
  // PostgreSQL, with text: OFFSET 0 keeps each EXISTS a probe per text match. Made a join, a generic
  // plan of the prepared statement (PostgreSQL's choice after five runs) started from every side row
  // of the value (18k for a licence) and looked each document up: 52 ms against 2 for `label:` + a
  // word. Without text the planner's joins are kept: probes there read 24k buffers, not 5k, to count
  // `tag:` + `platform:`.
  const probe = dialect === 'postgres' && withText ? ' OFFSET 0' : '';
  sides.forEach((side, at) => {
    parts.push(
      at === 0 && !withText
        ? `d.id IN (SELECT doc_id FROM ${side.table} WHERE ${side.match})`
        : `EXISTS (SELECT 1 FROM ${side.table} s WHERE s.doc_id = d.id AND ${side.match}${probe})`,
    );
    params.push(...side.values);
  });
  return { sql: parts.length === 0 ? ALL : parts.join(' AND '), params };
}

function marks(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
}

/** The searched text beyond the name: owner, linked repository, description, the text labels and the tags. */
function bodyOf(d: SearchDocument): string {
  const text = [d.owner, d.repository?.fullName ?? '', d.description ?? '', ...TEXT_LABELS.map((k) => d.labels[k] ?? ''), ...d.tags].join(
    ' ',
  );
  return wordsOf(text.slice(0, MAX_BODY_CHARS)).join(' ');
}

/** `sha256:abc…` → `abc…`: a query's hex prefix matches whatever the algorithm. */
function digestHex(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1).toLowerCase();
}

async function deleteSideRows(tx: Queryable, id: number): Promise<void> {
  for (const table of ['search_segments', 'search_digests', 'search_tags', 'search_labels', 'search_platforms']) {
    await tx.run(`DELETE FROM ${table} WHERE doc_id = ?`, [id]);
  }
}

async function insertRows(tx: Queryable, into: string, rows: SqlValue[][]): Promise<void> {
  for (let at = 0; at < rows.length; at += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(at, at + ROWS_PER_STATEMENT);
    await tx.run(`INSERT INTO ${into} VALUES ${chunk.map((r) => `(${marks(r)})`).join(', ')}`, chunk.flat());
  }
}
