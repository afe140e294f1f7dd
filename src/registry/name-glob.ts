/** Whether `value` matches `glob`, where `*` is any run of characters (slashes too): `acme/*`, `*-cache`. */
export function globMatches(glob: string, value: string): boolean {
  const pattern = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${pattern}$`).test(value);
}

/** A matcher for a comma-separated list of globs (blank entries ignored; an empty list matches nothing). */
export function globListMatcher(list: string): (value: string) => boolean {
  const globs = list
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g !== '');
  return (value) => globs.some((g) => globMatches(g, value));
}
