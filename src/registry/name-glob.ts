import { isValidTag } from '../oci/reference';

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

/** Whether `glob` is a tag pattern: a tag with `*` in it (the tag grammar keeps hostile text out of refusals and listings). */
export function isTagGlob(glob: string): boolean {
  return glob.length <= 128 && isValidTag(glob.replace(/\*/g, 'x'));
}
