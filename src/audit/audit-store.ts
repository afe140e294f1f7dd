import type { AuditAction, AuditDetails } from './audit-log';

/** One stored entry: the event with who, when and where it came from resolved to plain values. */
export interface AuditRecord {
  id: number;
  /** Epoch milliseconds. */
  at: number;
  action: AuditAction;
  actor: {
    kind: 'user' | 'ci' | 'system' | 'anonymous';
    /** The user (for a CI token, the user who minted it). */
    userId: number | null;
    name: string | null;
    /** password, session, pat, ci or refresh; null for the CLI and anonymous callers. */
    credential: string | null;
    tokenId: number | null;
  };
  clientAddress: string | null;
  requestId: string | null;
  /** The account (user or organisation) whose log the entry is in, as it was when recorded. */
  ownerId: number | null;
  ownerName: string | null;
  package: string | null;
  repository: string | null;
  details: AuditDetails;
}

export type NewAuditRecord = Omit<AuditRecord, 'id'>;

export interface AuditQuery {
  /** An organisation's log (entries it owns), or a user's (entries they own or did). */
  scope: { ownerId: number } | { userId: number };
  action?: AuditAction;
  /** The actor's name as recorded. */
  actorName?: string;
  /** Epoch milliseconds, exclusive. */
  after?: number;
  before?: number;
  /** Entries older than this id (a page's cursor). */
  beforeId?: number;
  limit: number;
}

/** The audit log's entries, newest first, and their retention. */
export interface AuditStore {
  append(record: NewAuditRecord): Promise<void>;
  /** Matching entries, newest (highest id) first. */
  query(query: AuditQuery): Promise<AuditRecord[]>;
  /** Deletes at most `limit` entries recorded before `at`; how many it deleted. */
  pruneBefore(at: number, limit: number): Promise<number>;
}
