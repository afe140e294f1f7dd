import type { Database, SqlValue } from '../../persistence/database';
import type { AuditAction, AuditDetails } from '../audit-log';
import type { AuditQuery, AuditRecord, AuditStore, NewAuditRecord } from '../audit-store';

interface AuditRow {
  id: number;
  at: number;
  action: AuditAction;
  actor_kind: AuditRecord['actor']['kind'];
  actor_id: number | null;
  actor_name: string | null;
  credential: string | null;
  token_id: number | null;
  client_address: string | null;
  request_id: string | null;
  owner_id: number | null;
  owner_name: string | null;
  package: string | null;
  repository: string | null;
  details: string;
}

const SELECT = `SELECT id, at, action, actor_kind, actor_id, actor_name, credential, token_id, client_address, request_id,
  owner_id, owner_name, package, repository, details FROM audit_events`;

const toRecord = (r: AuditRow): AuditRecord => ({
  id: r.id,
  at: r.at,
  action: r.action,
  actor: { kind: r.actor_kind, userId: r.actor_id, name: r.actor_name, credential: r.credential, tokenId: r.token_id },
  clientAddress: r.client_address,
  requestId: r.request_id,
  ownerId: r.owner_id,
  ownerName: r.owner_name,
  package: r.package,
  repository: r.repository,
  details: JSON.parse(r.details) as AuditDetails,
});

/** The audit log on SQLite or PostgreSQL; table from AUDIT_MIGRATIONS. */
export class SqlAuditStore implements AuditStore {
  constructor(private readonly db: Database) {}

  async append(r: NewAuditRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO audit_events (at, action, actor_kind, actor_id, actor_name, credential, token_id, client_address, request_id,
        owner_id, owner_name, package, repository, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        r.at,
        r.action,
        r.actor.kind,
        r.actor.userId,
        r.actor.name,
        r.actor.credential,
        r.actor.tokenId,
        r.clientAddress,
        r.requestId,
        r.ownerId,
        r.ownerName,
        r.package,
        r.repository,
        JSON.stringify(r.details),
      ],
    );
  }

  async query(q: AuditQuery): Promise<AuditRecord[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    const add = (clause: string, ...values: SqlValue[]) => {
      where.push(clause);
      params.push(...values);
    };
    if ('ownerId' in q.scope) add('owner_id = ?', q.scope.ownerId);
    else add('(actor_id = ? OR owner_id = ?)', q.scope.userId, q.scope.userId);
    if (q.action !== undefined) add('action = ?', q.action);
    if (q.actorName !== undefined) add('actor_name = ?', q.actorName);
    if (q.after !== undefined) add('at > ?', q.after);
    if (q.before !== undefined) add('at < ?', q.before);
    if (q.beforeId !== undefined) add('id < ?', q.beforeId);
    const rows = await this.db.all<AuditRow>(`${SELECT} WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`, [...params, q.limit]);
    return rows.map(toRecord);
  }

  async pruneBefore(at: number, limit: number): Promise<number> {
    const { changes } = await this.db.run('DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < ? LIMIT ?)', [
      at,
      limit,
    ]);
    return changes;
  }
}
