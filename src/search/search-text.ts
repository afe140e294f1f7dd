/** Text as the full-text index and queries both see it: lowercase runs of letters and digits. */
export function wordsOf(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** The parts of a package name (`acme/web-api.v2` → acme, web, api, v2): a query equal to one ranks as a segment match. */
export function nameSegments(name: string): string[] {
  return [...new Set(name.split(/[/._-]+/).filter((s) => s !== ''))];
}

/** A package name without its owner (`acme/tools/api` → `tools/api`): what a person types as "the name". */
export function shortName(name: string): string {
  const slash = name.indexOf('/');
  return slash < 0 ? name : name.slice(slash + 1);
}

/**
 * The upper bound of a prefix range: names and digests are ASCII with no
 * character above `~`, so `[prefix, prefix~)` holds exactly those starting with it.
 */
export function prefixEnd(prefix: string): string {
  return `${prefix}~`;
}
