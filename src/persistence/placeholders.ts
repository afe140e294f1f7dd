/** Query texts already translated: stores pass constant SQL, so this holds one entry per query in the code. */
const translated = new Map<string, string>();

/**
 * `?` placeholders (what stores write, SQLite's form) to PostgreSQL's
 * `$1…$n`, leaving `?` inside quoted literals and identifiers alone.
 */
export function numberedPlaceholders(sql: string): string {
  const cached = translated.get(sql);
  if (cached !== undefined) return cached;
  let out = '';
  let n = 0;
  let quote: string | undefined;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = undefined;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === '?') {
      out += `$${++n}`;
    } else {
      out += ch;
    }
  }
  translated.set(sql, out);
  return out;
}
