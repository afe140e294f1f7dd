import { globMatches } from '../registry/name-glob';
import type { RetentionRules } from './retention-policy';
import { highestSemverTag } from './semver';

/** A live version of one package as the planner sees it (gathered by the runner; the planner reads nothing itself). */
export interface PlannedVersion {
  id: number;
  digest: string;
  tags: string[];
  /** When it was created or last pushed with a tag: recency and age are measured from here. */
  updatedAt: number;
  /** Digests of the live indexes of this package that contain it. */
  parents: string[];
  /** Its subject's digest when it is a referrer (signature, SBOM, attestation) of a live manifest here. */
  subject: string | null;
  /** The immutable-tag rule covering one of its tags, described; null when none does. */
  immutableRule: string | null;
  /** Pulled within the policy's `keepPulledWithinDays` (always false when pulls do not count). */
  pulledRecently: boolean;
}

export interface RetentionDecision {
  id: number;
  digest: string;
  tags: string[];
  /** Why it is deleted or kept, in words: `untagged, 40 days old`, `beyond the 10 most recent matching v*`. */
  reason: string;
}

export interface RetentionPlan {
  /** What a run deletes, each with why; in an order the delete path accepts (referrers before their subject, indexes before their children). */
  delete: RetentionDecision[];
  /**
   * The deletions as groups of ids (an index with its children and referrers), each deleted by one request: a
   * restore of the index brings its group back, and a group refused (changed since) leaves the others alone.
   */
  groups: number[][];
  keep: RetentionDecision[];
}

const DAY_MS = 86_400_000;

/**
 * The plan for one package under one policy: pure, from what the runner gathered. A version is KEPT when
 *  - it has a tag an immutable-tag rule covers, a tag matching `excludeTags`, the highest semantic-version tag
 *    (`keepHighestSemver`), or was pulled recently (`keepPulledWithinDays`);
 *  - it is tagged and among the `count` most recent versions of some `keepTagged` entry matching one of its
 *    tags, or no entry matches any of its tags;
 *  - it is untagged and the policy has no `deleteUntaggedAfterDays`, or is younger than that;
 *  - it is a child of a kept index, a referrer of a kept subject (unless `detachReferrers`: then it is judged on
 *    its own), or the subject of a kept referrer (the delete path refuses to orphan a live referrer).
 * Everything else is deleted: a version no rule keeps, and what depends on a deleted version only (the children
 * of a deleted index, the referrers of a deleted subject), as a user's tree delete takes them along.
 */
export function planRetention(versions: readonly PlannedVersion[], rules: RetentionRules, now: number): RetentionPlan {
  const byDigest = new Map(versions.map((v) => [v.digest, v]));
  const referrersOf = new Map<string, PlannedVersion[]>();
  for (const v of versions) {
    if (v.subject !== null && byDigest.has(v.subject)) referrersOf.set(v.subject, [...(referrersOf.get(v.subject) ?? []), v]);
  }
  const parentsOf = (v: PlannedVersion) => v.parents.filter((d) => byDigest.has(d));
  const subjectOf = (v: PlannedVersion) => (v.subject !== null && byDigest.has(v.subject) ? v.subject : null);
  const own = ownVerdicts(versions, rules, now);

  const kept = new Map<string, string>();
  for (const v of versions) {
    const verdict = own.get(v.digest) as Verdict;
    const root = parentsOf(v).length === 0 && subjectOf(v) === null;
    if (verdict.strong || (root && verdict.keep)) kept.set(v.digest, verdict.reason);
  }
  // What keeps one version keeps others: grow the kept set until nothing changes (it only grows, so this ends).
  const idOf = (digest: string) => (byDigest.get(digest) as PlannedVersion).id;
  for (let changed = true; changed;) {
    changed = false;
    for (const v of versions) {
      if (kept.has(v.digest)) continue;
      const reason = keptBecause(v);
      if (reason !== null) {
        kept.set(v.digest, reason);
        changed = true;
      }
    }
  }
  function keptBecause(v: PlannedVersion): string | null {
    const parent = parentsOf(v).find((d) => kept.has(d));
    if (parent !== undefined) return `in kept index ${idOf(parent)}`;
    const subject = subjectOf(v);
    if (subject !== null && kept.has(subject)) {
      if (!rules.detachReferrers) return `referrer of kept version ${idOf(subject)}`;
      const verdict = own.get(v.digest) as Verdict;
      if (verdict.keep) return verdict.reason;
    }
    const referrer = (referrersOf.get(v.digest) ?? []).find((r) => kept.has(r.digest));
    if (referrer !== undefined) return `subject of kept referrer ${referrer.id}`;
    return null;
  }

  const doomed = versions.filter((v) => !kept.has(v.digest));
  const doomedDigests = new Set(doomed.map((v) => v.digest));
  const reasonToDelete = (v: PlannedVersion): string => {
    const verdict = own.get(v.digest) as Verdict;
    const parent = parentsOf(v)[0];
    const subject = subjectOf(v);
    if (parent !== undefined) return `in deleted index ${idOf(parent)}`;
    if (subject !== null && doomedDigests.has(subject)) return `referrer of deleted version ${idOf(subject)}`;
    return verdict.reason;
  };
  const decisions = new Map(doomed.map((v) => [v.digest, decision(v, reasonToDelete(v))]));
  const groups = deletionGroups(doomed, doomedDigests, parentsOf, subjectOf);
  return {
    delete: groups.flat().map((d) => decisions.get(d) as RetentionDecision),
    groups: groups.map((g) => g.map(idOf)),
    keep: versions.filter((v) => kept.has(v.digest)).map((v) => decision(v, kept.get(v.digest) as string)),
  };
}

interface Verdict {
  /** Kept whatever else holds: nothing depending on it being deleted takes it along. */
  strong: boolean;
  keep: boolean;
  reason: string;
}

/** What the policy says of each version by itself, before what contains or refers to it counts. */
function ownVerdicts(versions: readonly PlannedVersion[], rules: RetentionRules, now: number): Map<string, Verdict> {
  const highest = rules.keepHighestSemver ? highestSemverTag(versions.flatMap((v) => v.tags)) : null;
  // Each keepTagged entry's matching versions, most recent first: a version's rank in each.
  const ranks = rules.keepTagged.map((rule) => {
    const matching = versions
      .filter((v) => v.tags.some((t) => globMatches(rule.pattern, t)))
      .sort((a, b) => b.updatedAt - a.updatedAt || b.id - a.id);
    return new Map(matching.map((v, i) => [v.digest, i]));
  });
  const verdicts = new Map<string, Verdict>();
  for (const v of versions) {
    const strong = strongReason(v, rules, highest);
    if (strong !== null) {
      verdicts.set(v.digest, { strong: true, keep: true, reason: strong });
      continue;
    }
    if (v.tags.length > 0) {
      const matched = rules.keepTagged.flatMap((rule, i) => {
        const rank = ranks[i]?.get(v.digest);
        return rank === undefined ? [] : [{ rule, rank }];
      });
      const within = matched.find((m) => m.rank < m.rule.count);
      const reason =
        matched.length === 0
          ? `tagged ${v.tags.join(', ')}, which no keepTagged pattern matches`
          : within
            ? `one of the ${within.rule.count} most recent matching ${within.rule.pattern}`
            : matched.map((m) => `beyond the ${m.rule.count} most recent matching ${m.rule.pattern}`).join('; ');
      verdicts.set(v.digest, {
        strong: matched.length === 0 || within !== undefined,
        keep: matched.length === 0 || within !== undefined,
        reason,
      });
      continue;
    }
    const days = Math.floor((now - v.updatedAt) / DAY_MS);
    const limit = rules.deleteUntaggedAfterDays;
    if (limit === null) verdicts.set(v.digest, { strong: false, keep: true, reason: 'untagged; the policy deletes no untagged versions' });
    else if (now - v.updatedAt > limit * DAY_MS)
      verdicts.set(v.digest, { strong: false, keep: false, reason: `untagged, ${days} days old` });
    else verdicts.set(v.digest, { strong: false, keep: true, reason: `untagged, ${days} days old (deleted after ${limit})` });
  }
  return verdicts;
}

function strongReason(v: PlannedVersion, rules: RetentionRules, highest: string | null): string | null {
  if (v.immutableRule !== null) return `immutable: ${v.immutableRule}`;
  for (const tag of v.tags) {
    const glob = rules.excludeTags.find((g) => globMatches(g, tag));
    if (glob !== undefined) return `tag ${tag} matches excluded ${glob}`;
  }
  if (highest !== null && v.tags.includes(highest)) return `highest semver tag ${highest}`;
  if (v.pulledRecently) return `pulled within the last ${rules.keepPulledWithinDays ?? 0} days`;
  return null;
}

/**
 * The deleted versions as connected groups (an index with its children, a subject with its referrers), each in
 * an order the delete path accepts one at a time: a referrer before its subject, an index before its children.
 */
function deletionGroups(
  doomed: readonly PlannedVersion[],
  doomedDigests: ReadonlySet<string>,
  parentsOf: (v: PlannedVersion) => string[],
  subjectOf: (v: PlannedVersion) => string | null,
): string[][] {
  // `first.get(x)`: what must go before x (its doomed parents and doomed referrers).
  const first = new Map<string, string[]>(doomed.map((v) => [v.digest, []]));
  const links = new Map<string, string[]>(doomed.map((v) => [v.digest, []]));
  const link = (before: string, after: string) => {
    first.get(after)?.push(before);
    links.get(before)?.push(after);
    links.get(after)?.push(before);
  };
  for (const v of doomed) {
    for (const p of parentsOf(v)) if (doomedDigests.has(p)) link(p, v.digest);
    const subject = subjectOf(v);
    if (subject !== null && doomedDigests.has(subject)) link(v.digest, subject);
  }
  const byNewest = [...doomed].sort((a, b) => b.id - a.id).map((v) => v.digest);
  const grouped = new Set<string>();
  const groups: string[][] = [];
  for (const start of byNewest) {
    if (grouped.has(start)) continue;
    const members = new Set([start]);
    for (const pending = [start]; pending.length > 0;) {
      for (const next of links.get(pending.pop() as string) ?? []) {
        if (!members.has(next)) {
          members.add(next);
          pending.push(next);
        }
      }
    }
    const ordered: string[] = [];
    const placed = new Set<string>();
    // The graph has no cycles (an index cannot contain itself; a subject chain ends), so each pass places one.
    while (ordered.length < members.size) {
      const ready = byNewest.find((d) => members.has(d) && !placed.has(d) && (first.get(d) ?? []).every((b) => placed.has(b)));
      if (ready === undefined) throw new Error('retention planning found a cycle among versions');
      ordered.push(ready);
      placed.add(ready);
    }
    for (const d of members) grouped.add(d);
    groups.push(ordered);
  }
  return groups;
}

function decision(v: PlannedVersion, reason: string): RetentionDecision {
  return { id: v.id, digest: v.digest, tags: [...v.tags], reason };
}
