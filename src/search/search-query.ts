import type { SearchFilter } from './search-index';
import { SearchQueryInvalid } from './search-errors';
import { wordsOf } from './search-text';

/** The longest query read: longer ones are refused, not cut (a cut could change what matches). */
export const MAX_QUERY_CHARS = 256;
const MAX_QUALIFIERS = 16;
const MAX_WORDS = 16;
const MAX_LABEL_KEY_CHARS = 256;
const MAX_LABEL_VALUE_CHARS = 1024;

/** What a query asks for: free text, read three ways (a name, words, a digest prefix), and the qualifiers' filter. */
export interface ParsedQuery {
  phrase: string;
  words: string[];
  digestPrefix?: string;
  filter: SearchFilter;
}

const QUALIFIERS = ['org', 'user', 'repo', 'is', 'label', 'tag', 'platform'] as const;
type Qualifier = (typeof QUALIFIERS)[number];

const OWNER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const REPOSITORY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\/[A-Za-z0-9._-]{1,128}$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const PLATFORM = /^[a-z0-9._-]{1,64}\/[a-z0-9._-]{1,64}(\/[a-z0-9._-]{1,64})?$/;
const DIGEST = /^(?:sha256:|sha512:)?([0-9a-f]{12,128})$/;
// Control characters (NUL above all: PostgreSQL refuses it in text) are no part of any query.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Reads a search query: whitespace-separated terms, `"…"` keeping spaces
 * inside one; `org:`, `user:`, `repo:OWNER/NAME`, `is:public|private`,
 * `label:KEY=VALUE`, `tag:`, `platform:OS/ARCH[/VARIANT]` filter, everything
 * else is free text (an unknown `word:thing` too). Throws SearchQueryInvalid
 * for what it cannot read, naming the part; never echoes more than the part.
 */
export function parseSearchQuery(q: string): ParsedQuery {
  if (q.length > MAX_QUERY_CHARS) throw new SearchQueryInvalid(`a query is at most ${MAX_QUERY_CHARS} characters`);
  if (CONTROL.test(q)) throw new SearchQueryInvalid('a query holds no control characters');
  const free: string[] = [];
  const filter: { -readonly [K in keyof SearchFilter]: SearchFilter[K] } = { labels: [], tags: [], platforms: [] };
  const labels: Array<{ key: string; value: string }> = [];
  const tags: string[] = [];
  const platforms: string[] = [];
  let qualifiers = 0;
  for (const term of terms(q)) {
    const colon = term.indexOf(':');
    const key = colon > 0 ? term.slice(0, colon).toLowerCase() : '';
    if (!(QUALIFIERS as readonly string[]).includes(key)) {
      free.push(term);
      continue;
    }
    if (++qualifiers > MAX_QUALIFIERS) throw new SearchQueryInvalid(`a query has at most ${MAX_QUALIFIERS} qualifiers`);
    const value = term.slice(colon + 1);
    switch (key as Qualifier) {
      case 'org':
      case 'user': {
        if (!OWNER.test(value)) throw new SearchQueryInvalid(`${key}: needs a user or organisation name`);
        const owner = { name: value.toLowerCase(), kind: key === 'org' ? ('org' as const) : ('user' as const) };
        if (filter.owner && (filter.owner.name !== owner.name || filter.owner.kind !== owner.kind))
          throw new SearchQueryInvalid('a query names one owner (org: or user:)');
        filter.owner = owner;
        break;
      }
      case 'repo':
        if (!REPOSITORY.test(value)) throw new SearchQueryInvalid('repo: needs OWNER/NAME');
        if (filter.repository !== undefined && filter.repository !== value.toLowerCase())
          throw new SearchQueryInvalid('a query names one repository');
        filter.repository = value.toLowerCase();
        break;
      case 'is':
        if (value !== 'public' && value !== 'private') throw new SearchQueryInvalid('is: is public or private');
        if (filter.visibility !== undefined && filter.visibility !== value)
          throw new SearchQueryInvalid('is:public and is:private exclude each other');
        filter.visibility = value;
        break;
      case 'label': {
        const eq = value.indexOf('=');
        if (eq <= 0) throw new SearchQueryInvalid('label: needs KEY=VALUE');
        const label = { key: value.slice(0, eq), value: value.slice(eq + 1) };
        if (label.key.length > MAX_LABEL_KEY_CHARS || label.value.length > MAX_LABEL_VALUE_CHARS)
          throw new SearchQueryInvalid('label: key or value too long');
        labels.push(label);
        break;
      }
      case 'tag':
        if (!TAG.test(value)) throw new SearchQueryInvalid('tag: needs a tag name');
        tags.push(value);
        break;
      case 'platform':
        if (!PLATFORM.test(value.toLowerCase())) throw new SearchQueryInvalid('platform: needs OS/ARCH or OS/ARCH/VARIANT');
        platforms.push(value.toLowerCase());
        break;
    }
  }
  const phrase = free.join(' ').toLowerCase();
  const words = [...new Set(wordsOf(phrase))];
  if (words.length > MAX_WORDS) throw new SearchQueryInvalid(`a query has at most ${MAX_WORDS} words`);
  const digest = free.length === 1 ? DIGEST.exec(phrase) : null;
  return {
    phrase,
    words,
    ...(digest ? { digestPrefix: digest[1] } : {}),
    filter: { ...filter, labels, tags, platforms },
  };
}

/** Whitespace-separated terms; a `"` starts or ends a stretch where whitespace belongs to the term (and is dropped itself). */
function terms(q: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  let any = false;
  for (const ch of q) {
    if (ch === '"') {
      quoted = !quoted;
      any = true;
    } else if (!quoted && /\s/u.test(ch)) {
      if (any) out.push(current);
      current = '';
      any = false;
    } else {
      current += ch;
      any = true;
    }
  }
  if (any) out.push(current);
  return out.filter((t) => t !== '');
}
