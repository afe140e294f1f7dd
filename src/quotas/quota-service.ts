import { AccessDenied } from '../auth/errors';
import { isSiteAdmin, requireManager, type Actor } from '../auth/management/actor';
import { AccountNotFound, InvalidRequest } from '../auth/management/errors';
import type { Account, AccountKind, AccountStore } from '../auth/stores/account-store';
import type { MetadataIndex } from '../metadata/metadata-index';
import type { QuotaLimits, QuotaLimitStore } from './quota-limits';
import type { QuotaPolicy } from './quota-policy';

/** An owner's usage and limits, as the API and `berth quota show` report them. */
export interface QuotaReport {
  owner: string;
  kind: AccountKind;
  usedBytes: number;
  /** In force: the owner's own where set, else the defaults; null: unlimited. */
  limits: QuotaLimits;
  /** The owner's own limits (null fields: the default applies), or null when it has none. */
  own: QuotaLimits | null;
  /** Live versions of each of the owner's packages that has one, by name. */
  packages: Array<{ name: string; versions: number }>;
}

/** The bytes used by the owner as the counter says, and as recomputed from the links. */
export interface UsageCheck {
  owner: string;
  counted: number;
  recomputed: number;
}

/**
 * Quotas through the API and the CLI: an owner's usage and limits are readable by the user, the organisation's
 * members and site administrators; limits are set by site administrators only (with a full sign-in).
 */
export class QuotaService {
  constructor(
    private readonly store: QuotaLimitStore,
    private readonly policy: QuotaPolicy,
    private readonly index: MetadataIndex,
    private readonly accounts: AccountStore,
    private readonly clock: () => number = Date.now,
  ) {}

  async show(actor: Actor, kind: AccountKind, name: string): Promise<QuotaReport> {
    const owner = await this.account(kind, name);
    await this.mayRead(actor, owner);
    const own = await this.store.get(owner.name);
    const counts = await this.index.liveVersionCounts(owner.name);
    return {
      owner: owner.name,
      kind: owner.kind,
      usedBytes: await this.index.ownerUsage(owner.name),
      limits: await this.policy.limitsOf(owner.name),
      own: own && { maxBytes: own.maxBytes, maxVersionsPerPackage: own.maxVersionsPerPackage },
      packages: [...counts].map(([pkg, versions]) => ({ name: pkg, versions })),
    };
  }

  /** Replaces the owner's limits; both null forgets them (the defaults apply). */
  async set(actor: Actor, kind: AccountKind, name: string, limits: QuotaLimits): Promise<QuotaReport> {
    const manager = requireManager(actor, 'set quotas');
    if (!isSiteAdmin(manager)) throw new AccessDenied('only site administrators may set quotas');
    if ((limits.maxBytes ?? 0) < 0 || (limits.maxVersionsPerPackage ?? 1) < 1) {
      throw new InvalidRequest('a byte limit is 0 or more, a version limit 1 or more');
    }
    const owner = await this.account(kind, name);
    if (limits.maxBytes === null && limits.maxVersionsPerPackage === null) await this.store.remove(owner.name);
    else await this.store.set(owner.name, limits, this.clock());
    this.policy.forget(owner.name);
    return this.show(actor, kind, name);
  }

  /** The counter against a recount from scratch (site administrators: it reads every link of the owner). */
  async verify(actor: Actor, kind: AccountKind, name: string): Promise<UsageCheck> {
    if (!isSiteAdmin(actor)) throw new AccessDenied('only site administrators may verify usage');
    const owner = await this.account(kind, name);
    return {
      owner: owner.name,
      counted: await this.index.ownerUsage(owner.name),
      recomputed: await this.index.recomputeOwnerUsage(owner.name),
    };
  }

  private async account(kind: AccountKind, name: string): Promise<Account> {
    const account = await this.accounts.accountByName(name);
    if (!account || account.kind !== kind) throw new AccountNotFound(`no ${kind === 'org' ? 'organisation' : 'user'} ${name.slice(0, 64)}`);
    return account;
  }

  private async mayRead(actor: Actor, owner: Account): Promise<void> {
    if (isSiteAdmin(actor)) return;
    if (actor.kind === 'user') {
      if (owner.kind === 'user' ? owner.id === actor.userId : (await this.accounts.orgRole(owner.id, actor.userId)) !== null) return;
    }
    if (actor.kind === 'anonymous') requireManager(actor, 'read quotas'); // throws Unauthenticated
    throw new AccessDenied(`only ${owner.kind === 'user' ? owner.name : `the members of ${owner.name}`} may read its quota`);
  }
}
