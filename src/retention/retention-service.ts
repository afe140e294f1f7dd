import type { Authorizer } from '../auth/authorizer';
import { isSiteAdmin, requireManager, type Actor } from '../auth/management/actor';
import { AccountNotFound, InvalidRequest, PackageNotFound } from '../auth/management/errors';
import { requireNamespaceManager } from '../auth/management/namespace-manager';
import { atLeast } from '../auth/management/repository-service';
import type { AccountStore } from '../auth/stores/account-store';
import type { PackageStore } from '../auth/stores/package-store';
import { isValidName } from '../oci/reference';
import { isTagGlob } from '../registry/name-glob';
import type { RetentionPolicy, RetentionPolicyStore, RetentionRules, RetentionTarget } from './retention-policy';
import type { RetentionReport, RetentionRunner } from './retention-runner';

/** Where the API addresses a policy: `/orgs/{org}`, `/users/{user}` (each must be that kind) or `/packages/{owner/name}`. */
export interface PolicyAddress {
  kind: 'organisation' | 'user' | 'package';
  name: string;
}

export interface RetentionSettings {
  /** Daily download counts are kept this long (BERTH_DOWNLOADS_RETENTION_DAYS): pulls older than it are unknown. */
  downloadDays: number;
}

/**
 * Retention policies and runs through the API (issue #22). An owner's policy is managed by whoever manages the
 * namespace (the user, the organisation's owners, site administrators); a package's also by those with the admin
 * role on it (the Authorizer's manage rule for packages). Both with a full sign-in, as other settings.
 */
export class RetentionService {
  constructor(
    private readonly store: RetentionPolicyStore,
    private readonly runner: RetentionRunner,
    private readonly accounts: Pick<AccountStore, 'accountByName' | 'orgRole'>,
    private readonly packages: Pick<PackageStore, 'package'>,
    private readonly authorizer: Pick<Authorizer, 'packageRole'>,
    private readonly settings: RetentionSettings,
    private readonly clock: () => number = Date.now,
  ) {}

  async get(actor: Actor, at: PolicyAddress): Promise<RetentionPolicy | null> {
    return this.store.get(await this.authorize(actor, at, 'read retention policies'));
  }

  async put(actor: Actor, at: PolicyAddress, rules: RetentionRules): Promise<RetentionPolicy> {
    this.check(rules);
    return this.store.put(await this.authorize(actor, at, 'set retention policies'), rules, this.clock());
  }

  /** False when there was none. */
  async remove(actor: Actor, at: PolicyAddress): Promise<boolean> {
    return this.store.remove(await this.authorize(actor, at, 'remove retention policies'));
  }

  /** A run over the owner's packages or the one package, now; `dryRun` lists what it would delete and why. */
  async run(actor: Actor, at: PolicyAddress, dryRun: boolean): Promise<RetentionReport> {
    const target = await this.authorize(actor, at, 'run retention');
    return this.runner.run(target.scope === 'package' ? { repository: target.name } : { owner: target.name }, { dryRun });
  }

  private check(rules: RetentionRules): void {
    for (const glob of [...rules.keepTagged.map((k) => k.pattern), ...rules.excludeTags]) {
      if (!isTagGlob(glob)) throw new InvalidRequest(`not a tag pattern: ${glob.slice(0, 64)}`);
    }
    const days = rules.keepPulledWithinDays;
    if (days !== null && days > this.settings.downloadDays) {
      throw new InvalidRequest(
        `keep_pulled_within_days is at most ${this.settings.downloadDays}: daily download counts are kept that long (BERTH_DOWNLOADS_RETENTION_DAYS)`,
      );
    }
  }

  private async authorize(actor: Actor, at: PolicyAddress, what: string): Promise<RetentionTarget> {
    if (at.kind !== 'package') {
      const { owner } = await requireNamespaceManager(this.accounts, actor, at.name, what);
      if ((owner.kind === 'org') !== (at.kind === 'organisation')) throw new AccountNotFound(`no ${at.kind} ${at.name.slice(0, 64)}`);
      return { scope: 'owner', name: owner.name };
    }
    if (!isValidName(at.name) || !at.name.includes('/')) throw new InvalidRequest(`invalid package name: ${at.name.slice(0, 64)}`);
    const manager = requireManager(actor, what);
    const pkg = await this.packages.package(at.name);
    if (!pkg) throw new PackageNotFound(`no package ${at.name}`);
    if (isSiteAdmin(manager) || manager.kind !== 'user' || atLeast(await this.authorizer.packageRole(manager.userId, pkg), 'admin')) {
      return { scope: 'package', name: pkg.name };
    }
    await requireNamespaceManager(this.accounts, actor, at.name.split('/')[0] ?? '', what);
    return { scope: 'package', name: pkg.name };
  }
}
