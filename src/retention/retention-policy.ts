/**
 * Retention policies (issue #22): which versions of a package a retention run deletes.
 *
 * A policy belongs to an owner (a user or an organisation: every package in its namespace) or to one package.
 * How levels combine: the most specific policy wins WHOLE. A package with a policy of its own is governed by it
 * alone, field by field nothing of the owner's applies; a package without one is governed by its owner's; with
 * neither, a run leaves it alone. So a package policy with no deleting rule (no `keepTagged` entry and no
 * `deleteUntaggedAfterDays`) exempts one package from its owner's policy. Fields are never merged across levels:
 * a merge would make "keep 3" at one level and "keep 10" at the other mean something nobody wrote.
 */
export interface RetentionRules {
  /**
   * Tagged versions a tag of which matches `pattern` (`*` any run of characters): the `count` most recent are
   * kept, older ones deleted. A version matched by several entries goes only when it is beyond the count of each.
   * Tagged versions no entry matches are kept.
   */
  keepTagged: TagKeepRule[];
  /** Untagged versions created longer ago than this are deleted; null: untagged versions are kept. */
  deleteUntaggedAfterDays: number | null;
  /** The version holding the highest semantic-version tag (`1.2.3`, `v1.2.3`, pre-releases below releases) is kept. */
  keepHighestSemver: boolean;
  /** A version pulled within this many days is kept; null: pulls do not count. */
  keepPulledWithinDays: number | null;
  /** A version with a tag matching any of these globs is kept. */
  excludeTags: string[];
  /**
   * A referrer (signature, SBOM, attestation) of a kept manifest is judged on its own (and may be deleted as an
   * untagged version) instead of being kept with its subject. Index children of a kept index are always kept:
   * the delete path refuses to break an index.
   */
  detachReferrers: boolean;
}

export interface TagKeepRule {
  pattern: string;
  count: number;
}

/** Where a policy applies: every package of an owner (user or organisation), or one package (`owner/name`). */
export interface RetentionTarget {
  scope: 'owner' | 'package';
  name: string;
}

export interface RetentionPolicy extends RetentionTarget {
  rules: RetentionRules;
  updatedAt: number;
}

/** Whether the rules can delete anything at all (a policy without deleting rules only exempts). */
export function deletes(rules: RetentionRules): boolean {
  return rules.keepTagged.length > 0 || rules.deleteUntaggedAfterDays !== null;
}

/** The policy that governs `repository` among `policies` (its package's, else its owner's), or null. */
export function governingPolicy(policies: readonly RetentionPolicy[], repository: string): RetentionPolicy | null {
  const owner = repository.split('/')[0];
  return (
    policies.find((p) => p.scope === 'package' && p.name === repository) ??
    policies.find((p) => p.scope === 'owner' && p.name === owner) ??
    null
  );
}

/** The policies' storage: one per target (a put replaces it). */
export interface RetentionPolicyStore {
  /** Creates or replaces the target's policy. */
  put(target: RetentionTarget, rules: RetentionRules, now: number): Promise<RetentionPolicy>;
  get(target: RetentionTarget): Promise<RetentionPolicy | null>;
  /** False when the target had none. */
  remove(target: RetentionTarget): Promise<boolean>;
  /** The owner's own policy and those of its packages. */
  forOwner(owner: string): Promise<RetentionPolicy[]>;
  /** Every policy (a few per owner at most): what a run over the whole registry reads. */
  all(): Promise<RetentionPolicy[]>;
}
