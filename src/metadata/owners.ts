/**
 * The owner of a repository: the first segment of its name (`acme` for `acme/api` and `acme/tools/cli`), the user
 * or organisation namespace of the auth model; a name without a slash owns itself. Quotas count bytes per owner.
 */
export function ownerOf(repository: string): string {
  const slash = repository.indexOf('/');
  return slash < 0 ? repository : repository.slice(0, slash);
}

/**
 * The parameters that select an owner's repositories by name: the name itself, and the range `owner/` ≤ name <
 * `owner0` ('0' follows '/' in byte order), which an index on the name serves.
 */
export function ownerNameRange(owner: string): [string, string, string] {
  return [owner, `${owner}/`, `${owner}0`];
}
