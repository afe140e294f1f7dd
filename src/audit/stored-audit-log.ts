import type { AccountStore } from '../auth/stores/account-store';
import { currentRequest, type Logger } from '../log';
import type { AuditActor, AuditDetails, AuditEvent, AuditLog } from './audit-log';
import type { AuditRecord, AuditStore } from './audit-store';

/** Longest text kept from what a caller sent (a user name tried, a tag): enough to recognise, too little to flood. */
const MAX_TEXT = 256;

/**
 * The audit log over its store: the event, stamped with the time and the
 * request it came from (client address, request id), the owner account
 * resolved to its id, so a later account of the same name never sees it.
 */
export class StoredAuditLog implements AuditLog {
  constructor(
    private readonly store: AuditStore,
    private readonly accounts: Pick<AccountStore, 'accountByName'>,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async record(event: AuditEvent): Promise<void> {
    try {
      const ownerName = event.target.owner === undefined ? null : clip(event.target.owner);
      const owner = ownerName === null ? null : await this.accounts.accountByName(ownerName);
      const request = currentRequest();
      await this.store.append({
        at: this.now(),
        action: event.action,
        actor: actorOf(event.actor),
        clientAddress: request?.clientAddress?.() ?? null,
        requestId: request?.requestId ?? null,
        ownerId: owner?.id ?? null,
        ownerName,
        package: event.target.package === undefined ? null : clip(event.target.package),
        repository: event.target.repository === undefined ? null : clip(event.target.repository),
        details: clipDetails(event.details ?? {}),
      });
    } catch (err) {
      // The change it reports is committed already: losing the entry must not fail it.
      this.log.error({ err, action: event.action }, 'an audit log entry could not be written');
    }
  }
}

function actorOf(actor: AuditActor): AuditRecord['actor'] {
  switch (actor.kind) {
    case 'user': {
      const c = actor.credential;
      const tokenId = c.type === 'pat' || c.type === 'ci' || c.type === 'refresh' ? c.tokenId : null;
      return { kind: 'user', userId: actor.userId, name: actor.name, credential: c.type, tokenId };
    }
    case 'ci':
      return { kind: 'ci', userId: actor.userId, name: actor.name, credential: 'ci', tokenId: actor.tokenId };
    case 'system':
      return { kind: 'system', userId: null, name: actor.name ?? null, credential: null, tokenId: null };
    case 'anonymous':
      return { kind: 'anonymous', userId: null, name: null, credential: null, tokenId: null };
  }
}

function clip(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}

function clipDetails(details: AuditDetails): AuditDetails {
  const clipped: AuditDetails = {};
  for (const [key, value] of Object.entries(details)) {
    clipped[key] = typeof value === 'string' ? clip(value) : Array.isArray(value) ? value.slice(0, 20).map(clip) : value;
  }
  return clipped;
}
