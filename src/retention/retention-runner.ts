import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToRequests } from 'node:timers/promises';
import type { PackageAddress, PackageVersionService, VersionIndex } from '../auth/management/package-version-service';
import type { SystemActor } from '../auth/management/actor';
import type { AccountStore } from '../auth/stores/account-store';
import type { PackageStore } from '../auth/stores/package-store';
import { DomainError } from '../domain-error';
import { utcDay, type DownloadStore } from '../downloads/download-store';
import type { Logger } from '../log';
import type { VersionRecord } from '../metadata/versions';
import type { NamedLease } from '../persistence/sql-named-lease';
import { RetentionRunning } from './errors';
import { planRetention, type PlannedVersion, type RetentionDecision } from './retention-planner';
import { deletes, governingPolicy, type RetentionPolicy, type RetentionRules, type RetentionTarget } from './retention-policy';

/** Who retention deletes as: the audit log records `retention`; the change journal (webhooks' sender) no account. */
export const RETENTION_ACTOR: SystemActor = Object.freeze({ kind: 'system' as const, name: 'retention' });

/** Which packages a run covers: one package, one owner's, or (neither) every package some policy governs. */
export interface RetentionScope {
  owner?: string;
  repository?: string;
}

export interface PackageRetention {
  name: string;
  /** The policy that governs it (its own, or its owner's). */
  policy: RetentionTarget;
  /** Deleted (or, dry, to delete), with why. */
  delete: RetentionDecision[];
  keep: RetentionDecision[];
  /** Groups the delete path refused (the package changed since it was read): left as they are for the next run. */
  failed: Array<{ ids: number[]; reason: string }>;
}

export interface RetentionReport {
  dryRun: boolean;
  packages: PackageRetention[];
  deleted: number;
  kept: number;
  failed: number;
  seconds: number;
}

export interface RetentionRunnerDependencies {
  policies: { forOwner(owner: string): Promise<RetentionPolicy[]>; all(): Promise<RetentionPolicy[]> };
  lease: NamedLease;
  accounts: Pick<AccountStore, 'accountByName'>;
  packages: Pick<PackageStore, 'listPackages' | 'packageState'>;
  index: Pick<VersionIndex, 'listVersions' | 'versionFacts' | 'getVersion'>;
  downloads: Pick<DownloadStore, 'daily'>;
  /** The immutable-tag rule covering a tag, described, or null (src/immutability). */
  immutable: { ruleFor(repository: string, tag: string): Promise<string | null> };
  /** The user's delete path: soft, restorable, audited, journaled for webhooks. */
  versions: Pick<PackageVersionService, 'deleteVersions'>;
  log: Logger;
  clock?: () => number;
}

/** The lease outlives a stalled run by at most this; renewed after every package. */
const LEASE_TTL_MS = 120_000;
const PAGE = 500;

/**
 * Retention runs (issue #22): for each package a policy governs, its live versions are gathered (tags, index
 * parents, subjects, immutable tags, recent pulls), planned (retention-planner.ts, pure) and, unless dry, each
 * group deleted through PackageVersionService.deleteVersions as RETENTION_ACTOR: the same soft, restorable,
 * audited delete a user makes. A real run holds the lease (retention_leases) so one runs at a time across
 * workers and replicas; a dry run changes nothing and needs none.
 */
export class RetentionRunner {
  private readonly clock: () => number;

  constructor(private readonly deps: RetentionRunnerDependencies) {
    this.clock = deps.clock ?? Date.now;
  }

  async run(scope: RetentionScope, options: { dryRun: boolean }): Promise<RetentionReport> {
    const started = performance.now();
    const holder = randomUUID();
    if (!options.dryRun && !(await this.deps.lease.acquire(holder, LEASE_TTL_MS, this.clock()))) {
      throw new RetentionRunning('another retention run is in progress; try again when it is done');
    }
    try {
      const packages: PackageRetention[] = [];
      for (const { name, policy } of await this.governed(scope)) {
        packages.push(await this.retain(name, policy, options.dryRun));
        await yieldToRequests();
        if (!options.dryRun && !(await this.deps.lease.acquire(holder, LEASE_TTL_MS, this.clock()))) {
          throw new RetentionRunning('the retention lease was lost (the run stalled past it); stopping');
        }
      }
      const report: RetentionReport = {
        dryRun: options.dryRun,
        packages,
        deleted: sum(packages, (p) => p.delete.length),
        kept: sum(packages, (p) => p.keep.length),
        failed: sum(packages, (p) => p.failed.length),
        seconds: Math.round(performance.now() - started) / 1000,
      };
      this.deps.log.info(
        { dryRun: report.dryRun, packages: packages.length, deleted: report.deleted, failed: report.failed, seconds: report.seconds },
        options.dryRun ? 'retention (dry run)' : 'retention run done',
      );
      return report;
    } finally {
      if (!options.dryRun) await this.deps.lease.release(holder);
    }
  }

  /** The live packages in scope that a policy with deleting rules governs, with that policy. */
  private async governed(scope: RetentionScope): Promise<Array<{ name: string; policy: RetentionPolicy }>> {
    const owner = scope.owner ?? scope.repository?.split('/')[0];
    const policies = owner !== undefined ? await this.deps.policies.forOwner(owner) : await this.deps.policies.all();
    const names = new Set<string>();
    if (scope.repository !== undefined) names.add(scope.repository);
    else {
      for (const policy of policies) {
        if (policy.scope === 'package') names.add(policy.name);
        else for (const name of await this.packagesOf(policy.name)) names.add(name);
      }
    }
    const governed: Array<{ name: string; policy: RetentionPolicy }> = [];
    for (const name of [...names].sort()) {
      const policy = governingPolicy(policies, name);
      const state = policy && deletes(policy.rules) ? await this.deps.packages.packageState(name) : null;
      if (policy && state && state.deletedAt === null) governed.push({ name, policy });
    }
    return governed;
  }

  private async packagesOf(ownerName: string): Promise<string[]> {
    const owner = await this.deps.accounts.accountByName(ownerName);
    return owner ? (await this.deps.packages.listPackages({ ownerId: owner.id })).map((p) => p.name) : [];
  }

  private async retain(name: string, policy: RetentionPolicy, dryRun: boolean): Promise<PackageRetention> {
    const now = this.clock();
    const gathered = await this.gather(name, policy.rules, now);
    const plan = planRetention(gathered, policy.rules, now);
    const result: PackageRetention = { name, policy: { scope: policy.scope, name: policy.name }, delete: [], keep: plan.keep, failed: [] };
    if (dryRun) return { ...result, delete: plan.delete };
    const ownerName = name.split('/')[0] ?? '';
    const owner = await this.deps.accounts.accountByName(ownerName);
    if (!owner) return { ...result, failed: plan.groups.map((ids) => ({ ids, reason: `no owner ${ownerName}` })) };
    const at: PackageAddress = { owner, name: name.slice(ownerName.length + 1) };
    const byId = new Map(plan.delete.map((d) => [d.id, d]));
    const planned = new Map(gathered.map((v) => [v.id, v]));
    for (const ids of plan.groups) {
      try {
        const changed = await this.changedSincePlanned(name, ids, planned);
        if (changed !== null) {
          result.failed.push({ ids, reason: changed });
          continue;
        }
        // detach: the plan orders each group so that a referrer goes just before its subject, and never plans a
        // referrer of a kept subject unless the policy detaches referrers; the delete path checks everything else.
        const gone = await this.deps.versions.deleteVersions(RETENTION_ACTOR, at, ids, { tree: false, detach: true });
        for (const id of gone) {
          const decided = byId.get(id);
          if (decided) result.delete.push(decided);
        }
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        this.deps.log.warn({ err, package: name, versions: ids }, 'retention left a group of versions: the delete was refused');
        result.failed.push({ ids, reason: err.message });
      }
    }
    return result;
  }

  /**
   * Why the group can no longer be deleted as planned (a version was tagged, re-pushed or deleted since it was
   * read: a push during the run outranks the plan), or null. What the plan did not read (a new index over a
   * version, a new referrer) the delete path itself refuses.
   */
  private async changedSincePlanned(name: string, ids: number[], planned: ReadonlyMap<number, PlannedVersion>): Promise<string | null> {
    for (const id of ids) {
      const now = await this.deps.index.getVersion(name, id);
      const then = planned.get(id);
      if (
        !now ||
        !then ||
        now.deletedAt !== null ||
        now.updatedAt !== then.updatedAt ||
        [...now.tags].sort().join() !== [...then.tags].sort().join()
      ) {
        return `version ${id} changed since the run read it`;
      }
    }
    return null;
  }

  /** The package's live versions as the planner needs them: a page of versions, its facts, tags and pulls. */
  private async gather(name: string, rules: RetentionRules, now: number): Promise<PlannedVersion[]> {
    const planned: PlannedVersion[] = [];
    let beforeId: number | undefined;
    for (;;) {
      const { versions } = await this.deps.index.listVersions(name, { state: 'active', limit: PAGE, beforeId });
      const facts = await this.deps.index.versionFacts(versions);
      for (const [i, version] of versions.entries()) {
        planned.push({
          id: version.id,
          digest: version.digest,
          tags: version.tags,
          updatedAt: version.updatedAt,
          parents: (facts[i]?.parents ?? []).map((p) => p.digest),
          subject: version.subject,
          immutableRule: await this.immutableRule(name, version),
          pulledRecently:
            rules.keepPulledWithinDays !== null && (await this.pulledSince(name, version, utcDay(now) - rules.keepPulledWithinDays, now)),
        });
      }
      if (versions.length < PAGE) return planned;
      beforeId = versions[versions.length - 1]?.id;
    }
  }

  private async immutableRule(name: string, version: VersionRecord): Promise<string | null> {
    for (const tag of version.tags) {
      const rule = await this.deps.immutable.ruleFor(name, tag);
      if (rule !== null) return rule;
    }
    return null;
  }

  /** Whether the daily download counts show a pull of the version from `fromDay` on (one query per version). */
  private async pulledSince(name: string, version: VersionRecord, fromDay: number, now: number): Promise<boolean> {
    return (await this.deps.downloads.daily(name, fromDay, utcDay(now), version.digest)).some((d) => d.count > 0);
  }
}

function sum<T>(items: readonly T[], count: (item: T) => number): number {
  return items.reduce((total, item) => total + count(item), 0);
}
