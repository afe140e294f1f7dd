import type { SqlValue } from '../../persistence/database';
import type { IndexQuery } from '../search-index';
import { prefixEnd } from '../search-text';

/** A piece of SQL and its parameters, in the order of its placeholders. */
export interface SqlPart {
  sql: string;
  params: SqlValue[];
}

/**
 * A phrase that can equal a name segment. Segments are OCI path components split at `/._-`,
 * so runs of `[a-z0-9]` (the phrase is lowercase already).
 */
const SEGMENT = /^[a-z0-9]+$/;

/**
 * A text query read in one pass over `search_documents d` (PostgreSQL): `rows`, the condition
 * naming every matching document; `tier`, each one's best kind of match, as the candidate union
 * of SqlSearchIndex.matches ranks it (0 exact name, 1 name prefix, 2 name segment, 3 text or
 * digest); `rank`, the text score of a tier-3 row (its tier again: the SELECT of both cannot name the
 * other), computed for those only: name matches go by downloads, and need none.
 *
 * Segments come from the full text: the tsvector's weight A holds the name's words, which for a
 * valid name are its segments, and a phrase that can be a segment is its own only word, so its
 * segment matches are among the full-text matches and are the ones matching `phrase:A`.
 */
export function onePassMatch(query: IndexQuery): { rows: SqlPart; tier: SqlPart; rank: SqlPart } {
  const rows: SqlPart = { sql: '', params: [] };
  const either: string[] = [];
  const tiers: string[] = [];
  const tierParams: SqlValue[] = [];
  const { phrase } = query;
  if (phrase !== '') {
    const end = prefixEnd(phrase);
    // An exact name or short name is in its prefix range too.
    either.push('(d.name >= ? AND d.name < ?)', '(d.short_name >= ? AND d.short_name < ?)');
    rows.params.push(phrase, end, phrase, end);
    tiers.push(
      'WHEN d.name = ? OR d.short_name = ? THEN 0',
      'WHEN (d.name >= ? AND d.name < ?) OR (d.short_name >= ? AND d.short_name < ?) THEN 1',
    );
    tierParams.push(phrase, phrase, phrase, end, phrase, end);
    if (SEGMENT.test(phrase)) {
      tiers.push("WHEN d.tsv @@ to_tsquery('simple', ?) THEN 2");
      tierParams.push(`${phrase}:A`);
    }
  }
  // Words are letters and digits only, so joining them with & is a well-formed tsquery.
  const tsquery = query.words.join(' & ');
  if (query.words.length > 0) {
    either.push("d.tsv @@ to_tsquery('simple', ?)");
    rows.params.push(tsquery);
  }
  if (query.digestPrefix !== undefined) {
    // An array of ids, not IN: an array can be one arm of the bitmap OR (the primary key's index).
    either.push('d.id = ANY (ARRAY (SELECT doc_id FROM search_digests WHERE digest >= ? AND digest < ?))');
    rows.params.push(query.digestPrefix, prefixEnd(query.digestPrefix));
  }
  rows.sql = either.join(' OR ');
  const tier: SqlPart = { sql: tiers.length > 0 ? `CASE ${tiers.join(' ')} ELSE 3 END` : '3', params: tierParams };
  return {
    rows,
    tier,
    rank:
      query.words.length > 0
        ? {
            sql: `CASE WHEN ${tier.sql} = 3 AND d.tsv @@ to_tsquery('simple', ?) THEN CAST(-ts_rank(d.tsv, to_tsquery('simple', ?)) AS REAL) ELSE CAST(0 AS REAL) END`,
            params: [...tier.params, tsquery, tsquery],
          }
        : { sql: 'CAST(0 AS REAL)', params: [] },
  };
}
