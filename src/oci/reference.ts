import { NameInvalid } from './grammar-errors';

/**
 * Grammars from the distribution-spec ("Pulling manifests"): a repository
 * name is path components of lowercase alphanumerics joined by separators;
 * a tag is at most 128 characters of word characters, dots and dashes.
 */
const NAME_GRAMMAR = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_GRAMMAR = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** Docker's historic limit on the whole name, which clients still enforce. */
export const MAX_NAME_LENGTH = 255;

export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME_GRAMMAR.test(name);
}

export function assertValidName(name: string): void {
  if (!isValidName(name)) throw new NameInvalid(`invalid repository name: ${name}`);
}

export function isValidTag(tag: string): boolean {
  return TAG_GRAMMAR.test(tag);
}
