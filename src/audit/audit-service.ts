import type { Actor } from '../auth/management/actor';
import { isSiteAdmin } from '../auth/management/actor';
import { OrganizationNotFound } from '../auth/management/errors';
import { AccessDenied, Unauthenticated } from '../auth/errors';
import type { AccountStore } from '../auth/stores/account-store';
import { pruneInBatches } from '../persistence/batched-prune';
import type { AuditAction, AuditDetails } from './audit-log';
import type { AuditQuery, AuditRecord, AuditStore } from './audit-store';

/** What a page of the log is asked for with; times in epoch milliseconds. */
export interface AuditFilter {
  action?: AuditAction;
  actor?: string;
  after?: number;
  before?: number;
  perPage: number;
  /** The `next` of the previous page. */
  cursor?: number;
}

export interface AuditEntryView {
  id: number;
  at: string;
  action: AuditAction;
  actor: { kind: AuditRecord['actor']['kind']; name: string | null; credential: string | null; tokenId: number | null };
  clientAddress: string | null;
  requestId: string | null;
  target: { owner: string | null; package: string | null; repository: string | null };
  details: AuditDetails;
}

export interface AuditPage {
  entries: AuditEntryView[];
  /** The cursor of the next (older) page; null on the last. */
  next: number | null;
}

export interface AuditServiceOptions {
  /** Entries older than this are pruned. */
  retentionDays: number;
  now?: () => number;
}

/**
 * Reading the audit log: an organisation's, for its owners and site
 * administrators only, and a user's own (what they did, and what was done
 * in their namespace, failed sign-ins included). Pruning past the retention.
 */
export class AuditService {
  private readonly now: () => number;

  constructor(
    private readonly store: AuditStore,
    private readonly accounts: Pick<AccountStore, 'accountByName' | 'orgRole'>,
    private readonly options: AuditServiceOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async orgLog(actor: Actor, orgName: string, filter: AuditFilter): Promise<AuditPage> {
    if (actor.kind === 'anonymous') throw new Unauthenticated('sign in to read an audit log');
    const org = await this.accounts.accountByName(orgName);
    if (!org || org.kind !== 'org') throw new OrganizationNotFound(`no organisation "${orgName}"`);
    const owner = actor.kind === 'user' && (await this.accounts.orgRole(org.id, actor.userId)) === 'owner';
    if (!owner && !isSiteAdmin(actor)) throw new AccessDenied(`only owners of "${orgName}" read its audit log`);
    return this.page({ ownerId: org.id }, filter);
  }

  async userLog(actor: Actor, filter: AuditFilter): Promise<AuditPage> {
    if (actor.kind !== 'user') throw new Unauthenticated('sign in as a user to read your audit log');
    return this.page({ userId: actor.userId }, filter);
  }

  /** Deletes entries older than the retention, in batches; how many went. */
  prune(): Promise<number> {
    const before = this.now() - this.options.retentionDays * 86_400_000;
    return pruneInBatches((limit) => this.store.pruneBefore(before, limit));
  }

  private async page(scope: AuditQuery['scope'], filter: AuditFilter): Promise<AuditPage> {
    // One more than the page: whether a next page exists without a count.
    const rows = await this.store.query({
      scope,
      action: filter.action,
      actorName: filter.actor,
      after: filter.after,
      before: filter.before,
      beforeId: filter.cursor,
      limit: filter.perPage + 1,
    });
    const entries = rows.slice(0, filter.perPage).map(view);
    const last = entries[entries.length - 1];
    return { entries, next: rows.length > filter.perPage && last ? last.id : null };
  }
}

function view(r: AuditRecord): AuditEntryView {
  return {
    id: r.id,
    at: new Date(r.at).toISOString(),
    action: r.action,
    actor: { kind: r.actor.kind, name: r.actor.name, credential: r.actor.credential, tokenId: r.actor.tokenId },
    clientAddress: r.clientAddress,
    requestId: r.requestId,
    target: { owner: r.ownerName, package: r.package, repository: r.repository },
    details: r.details,
  };
}
