import type { Database, SqlValue } from '../../persistence/database';
import type {
  AttemptOutcome,
  Delivery,
  DeliveryAttempt,
  Hook,
  HookScope,
  HookSettings,
  HookStore,
  NewAttempt,
  NewDelivery,
} from '../hook-store';
import { eventSlices } from './delivery-slices';

interface HookRow {
  id: number;
  scope_kind: string;
  scope_id: number;
  url: string;
  secret: string | null;
  content_type: string;
  events: string;
  package_glob: string | null;
  tag_glob: string | null;
  active: number;
  disabled_reason: string | null;
  created_at: number;
  updated_at: number;
}

interface DeliveryRow {
  id: number;
  hook_id: number;
  guid: string;
  event: string;
  action: string | null;
  /** Empty when the payload is in webhook_payloads (payload_id); the whole payload for rows queued before that. */
  payload: string;
  payload_id: number | null;
  state: string;
  attempts: number;
  next_attempt_at: number;
  redelivery: number;
  created_at: number;
}

interface AttemptRow {
  id: number;
  delivery_id: number;
  hook_id: number;
  guid: string;
  event: string;
  action: string | null;
  attempt: number;
  redelivery: number;
  at: number;
  duration_ms: number;
  status_code: number;
  status: string;
  request_headers: string;
  request_body: string;
  response_headers: string;
  response_body: string;
}

const HOOK_COLUMNS =
  'id, scope_kind, scope_id, url, secret, content_type, events, package_glob, tag_glob, active, disabled_reason, created_at, updated_at';
const DELIVERY_COLUMNS = 'id, hook_id, guid, event, action, payload, payload_id, state, attempts, next_attempt_at, redelivery, created_at';
const ATTEMPT_COLUMNS = `a.id, a.delivery_id, a.hook_id, d.guid, d.event, d.action, a.attempt, a.redelivery, a.at, a.duration_ms,
  a.status_code, a.status, a.request_headers, a.request_body, a.response_headers, a.response_body`;

/** Hooks, the webhook outbox and the delivery log on SQLite or PostgreSQL; tables from WEBHOOK_MIGRATIONS. */
export class SqlHookStore implements HookStore {
  constructor(private readonly db: Database) {}

  async createHook(scope: HookScope, settings: HookSettings, now: number): Promise<Hook> {
    const [kind, scopeId] = scopeKey(scope);
    const row = await this.db.get<HookRow>(
      `INSERT INTO webhook_hooks (scope_kind, scope_id, url, secret, content_type, events, package_glob, tag_glob, active,
         disabled_reason, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?) RETURNING ${HOOK_COLUMNS}`,
      [kind, scopeId, ...settingValues(settings), now, now],
    );
    return toHook(row!);
  }

  async hook(id: number): Promise<Hook | null> {
    const row = await this.db.get<HookRow>(`SELECT ${HOOK_COLUMNS} FROM webhook_hooks WHERE id = ?`, [id]);
    return row ? toHook(row) : null;
  }

  async hooksOf(scope: HookScope): Promise<Hook[]> {
    const rows = await this.db.all<HookRow>(`SELECT ${HOOK_COLUMNS} FROM webhook_hooks WHERE scope_kind = ? AND scope_id = ? ORDER BY id`, [
      ...scopeKey(scope),
    ]);
    return rows.map(toHook);
  }

  async holdRelayLease(owner: string, now: number, ttlMs: number): Promise<boolean> {
    const held = await this.db.all<{ owner: string }>(
      `INSERT INTO webhook_relay_lease (name, owner, expires_at) VALUES ('relay', ?, ?)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE webhook_relay_lease.owner = excluded.owner OR webhook_relay_lease.expires_at < ?
       RETURNING owner`,
      [owner, now + ttlMs, now],
    );
    return held.length > 0;
  }

  async anyActive(): Promise<boolean> {
    return (await this.db.get('SELECT 1 AS one FROM webhook_hooks WHERE active = 1 LIMIT 1')) !== undefined;
  }

  async activeHooks(scopes: readonly HookScope[]): Promise<Hook[]> {
    if (scopes.length === 0) return [];
    const where = scopes.map(() => '(scope_kind = ? AND scope_id = ?)').join(' OR ');
    const rows = await this.db.all<HookRow>(
      `SELECT ${HOOK_COLUMNS} FROM webhook_hooks WHERE active = 1 AND (${where}) ORDER BY id`,
      scopes.flatMap(scopeKey),
    );
    return rows.map(toHook);
  }

  async updateHook(id: number, changes: Partial<HookSettings>, now: number): Promise<Hook | null> {
    return this.db.transaction(async (tx) => {
      const row = await tx.get<HookRow>(`SELECT ${HOOK_COLUMNS} FROM webhook_hooks WHERE id = ?`, [id]);
      if (!row) return null;
      const current = toHook(row);
      const next: HookSettings = { ...current, ...changes };
      // Switching a hook on again (or off by hand) replaces the reason Berth switched it off.
      const reason = changes.active === undefined ? current.disabledReason : null;
      const updated = await tx.get<HookRow>(
        `UPDATE webhook_hooks SET url = ?, secret = ?, content_type = ?, events = ?, package_glob = ?, tag_glob = ?, active = ?,
           disabled_reason = ?, updated_at = ? WHERE id = ? RETURNING ${HOOK_COLUMNS}`,
        [...settingValues(next), reason, now, id],
      );
      return toHook(updated!);
    });
  }

  async disableHook(id: number, reason: string, now: number): Promise<void> {
    await this.db.run('UPDATE webhook_hooks SET active = 0, disabled_reason = ?, updated_at = ? WHERE id = ?', [reason, now, id]);
  }

  async noteResult(id: number, succeeded: boolean, now: number): Promise<number | null> {
    // Most results change nothing (a success of a hook not failing, a failure of one failing already): a read says so
    // without a write, which on SQLite takes the write lock that every push of the other processes waits for.
    const known = await this.db.get<{ failing_since: number | null }>('SELECT failing_since FROM webhook_hooks WHERE id = ?', [id]);
    if (!known) return null;
    if ((known.failing_since === null) === succeeded) return known.failing_since;
    const row = await this.db.get<{ failing_since: number | null }>(
      succeeded
        ? 'UPDATE webhook_hooks SET failing_since = NULL WHERE id = ? RETURNING failing_since'
        : 'UPDATE webhook_hooks SET failing_since = COALESCE(failing_since, ?) WHERE id = ? RETURNING failing_since',
      succeeded ? [id] : [now, id],
    );
    return row?.failing_since ?? null;
  }

  async deleteHook(id: number): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await tx.run('DELETE FROM webhook_attempts WHERE hook_id = ?', [id]);
      await tx.run('DELETE FROM webhook_deliveries WHERE hook_id = ?', [id]);
      const { changes } = await tx.run('DELETE FROM webhook_hooks WHERE id = ?', [id]);
      return changes > 0;
    });
  }

  /**
   * On SQLite a few events to a transaction, letting this process's requests run in between: a relay pass queued
   * whole held SQLite's write lock and the process's event loop for 4 ms (median of 245 passes; 13 ms at worst).
   * With three hooks the webhook bench's serial manifest PUTs had p99 21.3 ms against 12.6 without hooks, and in
   * slices of 24 rows 13.2 against 11.5 (PUTs per second 0.71 -> 0.88 of no hooks; slices of 6 were worse again,
   * each transaction paying its own commit). PostgreSQL's writers do not block the process's other queries, so
   * there one transaction saves the round trips of several.
   */
  async enqueue(deliveries: readonly NewDelivery[], now: number): Promise<void> {
    if (deliveries.length === 0) return;
    if (this.db.dialect === 'postgres') return this.enqueueAtOnce(deliveries, now);
    const slices = eventSlices(deliveries, SQLITE_SLICE_ROWS);
    for (const [at, slice] of slices.entries()) {
      if (at > 0) await new Promise((resolve) => setImmediate(resolve));
      await this.enqueueAtOnce(slice, now);
    }
  }

  private async enqueueAtOnce(deliveries: readonly NewDelivery[], now: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      // Each distinct payload once (an event's deliveries to its hooks share one); a payload whose deliveries were
      // all queued before (a journal entry read twice) is left unreferenced, and pruneLog removes it.
      const payloadIds = new Map<string, number>();
      for (const { payload } of deliveries) {
        if (payloadIds.has(payload)) continue;
        const row = await tx.get<{ id: number }>('INSERT INTO webhook_payloads (body, created_at) VALUES (?, ?) RETURNING id', [
          payload,
          now,
        ]);
        if (row) payloadIds.set(payload, row.id);
      }
      for (let at = 0; at < deliveries.length; at += ROWS_PER_STATEMENT) {
        const rows = deliveries.slice(at, at + ROWS_PER_STATEMENT);
        await tx.run(
          `INSERT INTO webhook_deliveries (hook_id, guid, event, action, payload, payload_id, source, state, attempts, next_attempt_at,
             redelivery, created_at) VALUES ${rows.map(() => "(?, ?, ?, ?, '', ?, ?, 'pending', 0, ?, 0, ?)").join(', ')}
           ON CONFLICT (hook_id, source) DO NOTHING`,
          rows.flatMap((d) => [d.hookId, d.guid, d.event, d.action, payloadIds.get(d.payload) ?? null, d.source, now, now]),
        );
      }
    });
  }

  async claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<Delivery[]> {
    // One conditional UPDATE in autocommit: two workers racing for a row cannot both take it.
    // SQLite's write lock serialises the statements. On PostgreSQL the candidates are locked with
    // SKIP LOCKED, so racing workers take different rows instead of queueing on the same ones (a
    // loser that did wait re-checks the outer conditions, finds the lease taken and skips it). The
    // candidates are a materialised CTE: as an IN (subquery) PostgreSQL may run the LIMIT subquery
    // again per row, and with SKIP LOCKED each run finds other rows (a batch of 5 took 30).
    // Most polls find nothing due: a read says so without the UPDATE, which would take SQLite's write lock.
    const due = await this.db.get(
      `SELECT 1 AS one FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= ?
         AND (lease_expires_at IS NULL OR lease_expires_at <= ?) LIMIT 1`,
      [now, now],
    );
    if (!due) return [];
    const postgres = this.db.dialect === 'postgres';
    // The re-check of the outer conditions is PostgreSQL's alone (rows another transaction changed after the
    // candidates were read). SQLite runs the statement under its write lock, where the candidates' conditions
    // still hold; given them, its planner walked every pending row through the (state, next_attempt_at) index
    // and probed the id list, instead of looking the few candidates up by id: 1.3-1.5 ms a claim with 6,000
    // pending (three hooks at a slow receiver during 12 s of pushes), 0.02 ms by id.
    const recheck = postgres ? "AND state = 'pending' AND (lease_expires_at IS NULL OR lease_expires_at <= ?)" : '';
    const rows = await this.db.all<DeliveryRow>(
      `WITH candidates AS ${postgres ? 'MATERIALIZED ' : ''}(
         SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= ?
           AND (lease_expires_at IS NULL OR lease_expires_at <= ?) ORDER BY next_attempt_at, id LIMIT ?${postgres ? ' FOR UPDATE SKIP LOCKED' : ''})
       UPDATE webhook_deliveries SET lease_owner = ?, lease_expires_at = ?
       WHERE id IN (SELECT id FROM candidates) ${recheck}
       RETURNING ${DELIVERY_COLUMNS}`,
      postgres ? [now, now, limit, owner, now + leaseMs, now] : [now, now, limit, owner, now + leaseMs],
    );
    const bodies = await this.payloadBodies(rows);
    return rows.map((row) => toDelivery(row, bodies)).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.id - b.id);
  }

  /** The payloads of deliveries that keep theirs in webhook_payloads, by id. */
  private async payloadBodies(rows: readonly DeliveryRow[]): Promise<Map<number, string>> {
    const ids = [...new Set(rows.flatMap((r) => (r.payload_id === null ? [] : [r.payload_id])))];
    const bodies = new Map<number, string>();
    for (let at = 0; at < ids.length; at += ROWS_PER_STATEMENT) {
      const some = ids.slice(at, at + ROWS_PER_STATEMENT);
      const found = await this.db.all<{ id: number; body: string }>(
        `SELECT id, body FROM webhook_payloads WHERE id IN (${some.map(() => '?').join(', ')})`,
        some,
      );
      for (const { id, body } of found) bodies.set(Number(id), body);
    }
    return bodies;
  }

  async finishAttempt(deliveryId: number, owner: string, attempt: NewAttempt, outcome: AttemptOutcome): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const held = await tx.get<{ hook_id: number; redelivery: number }>(
        'SELECT hook_id, redelivery FROM webhook_deliveries WHERE id = ? AND lease_owner = ?',
        [deliveryId, owner],
      );
      if (!held) return false;
      await tx.run(
        `UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, next_attempt_at = ?, redelivery = 0,
           lease_owner = NULL, lease_expires_at = NULL WHERE id = ?`,
        [outcome.state, outcome.state === 'pending' ? outcome.nextAttemptAt : attempt.at, deliveryId],
      );
      await tx.run(
        `INSERT INTO webhook_attempts (delivery_id, hook_id, attempt, redelivery, at, duration_ms, status_code, status,
           request_headers, request_body, response_headers, response_body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          deliveryId,
          held.hook_id,
          attempt.attempt,
          held.redelivery,
          attempt.at,
          Math.round(attempt.durationMs),
          attempt.statusCode,
          attempt.status,
          JSON.stringify(attempt.requestHeaders),
          attempt.requestBody,
          JSON.stringify(attempt.responseHeaders),
          attempt.responseBody,
        ],
      );
      return true;
    });
  }

  async dropPending(hookId: number, status: string, now: number, limit: number): Promise<number> {
    const postgres = this.db.dialect === 'postgres';
    return this.db.transaction(async (tx) => {
      const rows = await tx.all<{ id: number; attempts: number; redelivery: number }>(
        `SELECT id, attempts, redelivery FROM webhook_deliveries WHERE hook_id = ? AND state = 'pending'
           AND (lease_expires_at IS NULL OR lease_expires_at <= ?) ORDER BY id LIMIT ?${postgres ? ' FOR UPDATE SKIP LOCKED' : ''}`,
        [hookId, now, limit],
      );
      for (let at = 0; at < rows.length; at += ROWS_PER_STATEMENT) {
        const some = rows.slice(at, at + ROWS_PER_STATEMENT);
        await tx.run(
          `INSERT INTO webhook_attempts (delivery_id, hook_id, attempt, redelivery, at, duration_ms, status_code, status,
             request_headers, request_body, response_headers, response_body)
           VALUES ${some.map(() => "(?, ?, ?, ?, ?, 0, 0, ?, '{}', '', '{}', '')").join(', ')}`,
          some.flatMap((r) => [r.id, hookId, Number(r.attempts) + 1, r.redelivery, now, status]),
        );
        await tx.run(
          `UPDATE webhook_deliveries SET state = 'failed', attempts = attempts + 1, next_attempt_at = ?, redelivery = 0,
             lease_owner = NULL, lease_expires_at = NULL WHERE id IN (${some.map(() => '?').join(', ')})`,
          [now, ...some.map((r) => r.id)],
        );
      }
      return rows.length;
    });
  }

  async delivery(id: number): Promise<Delivery | null> {
    const row = await this.db.get<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = ?`, [id]);
    return row ? toDelivery(row, await this.payloadBodies([row])) : null;
  }

  async attempts(hookId: number, limit: number, before?: number): Promise<DeliveryAttempt[]> {
    const params: SqlValue[] = [hookId, ...(before === undefined ? [] : [before]), limit];
    const rows = await this.db.all<AttemptRow>(
      `SELECT ${ATTEMPT_COLUMNS} FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
       WHERE a.hook_id = ?${before === undefined ? '' : ' AND a.id < ?'} ORDER BY a.id DESC LIMIT ?`,
      params,
    );
    return rows.map(toAttempt);
  }

  async attempt(hookId: number, attemptId: number): Promise<DeliveryAttempt | null> {
    const row = await this.db.get<AttemptRow>(
      `SELECT ${ATTEMPT_COLUMNS} FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
       WHERE a.hook_id = ? AND a.id = ?`,
      [hookId, attemptId],
    );
    return row ? toAttempt(row) : null;
  }

  async redeliver(hookId: number, attemptId: number, now: number): Promise<boolean> {
    const { changes } = await this.db.run(
      `UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = ?, redelivery = 1
       WHERE id = (SELECT delivery_id FROM webhook_attempts WHERE hook_id = ? AND id = ?)`,
      [now, hookId, attemptId],
    );
    return changes > 0;
  }

  async pruneLog(before: number, limit: number): Promise<number> {
    const attempts = await this.db.run('DELETE FROM webhook_attempts WHERE id IN (SELECT id FROM webhook_attempts WHERE at < ? LIMIT ?)', [
      before,
      limit,
    ]);
    const deliveries = await this.db.run(
      `DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries WHERE state <> 'pending' AND created_at < ?
         AND NOT EXISTS (SELECT 1 FROM webhook_attempts a WHERE a.delivery_id = webhook_deliveries.id) LIMIT ?)`,
      [before, limit],
    );
    // Payloads no delivery names any more (their deliveries were pruned or their hook deleted, or all of them were
    // queued before: a journal entry read twice), in batches of their own; not counted, as the contract counts log
    // entries and deliveries. Only older ones: an enqueue writes its payload before its deliveries.
    for (;;) {
      const payloads = await this.db.run(
        `DELETE FROM webhook_payloads WHERE id IN (SELECT p.id FROM webhook_payloads p WHERE p.created_at < ?
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.payload_id = p.id) LIMIT ?)`,
        [before, limit],
      );
      if (payloads.changes < limit) break;
    }
    return attempts.changes + deliveries.changes;
  }
}

/** Deliveries queued in one SQLite transaction (see enqueue): 24 is eight events to three hooks. */
const SQLITE_SLICE_ROWS = 24;

/** Rows per INSERT: far below either driver's parameter limit. */
const ROWS_PER_STATEMENT = 100;

function scopeKey(scope: HookScope): [string, number] {
  if (scope.kind === 'org') return ['org', scope.accountId];
  if (scope.kind === 'repository') return ['repository', scope.repositoryId];
  return ['instance', 0];
}

function settingValues(s: HookSettings): SqlValue[] {
  return [s.url, s.secret, s.contentType, JSON.stringify(s.events), s.packageGlob, s.tagGlob, s.active ? 1 : 0];
}

function toHook(row: HookRow): Hook {
  const scope: HookScope =
    row.scope_kind === 'org'
      ? { kind: 'org', accountId: row.scope_id }
      : row.scope_kind === 'repository'
        ? { kind: 'repository', repositoryId: row.scope_id }
        : { kind: 'instance' };
  return {
    id: row.id,
    scope,
    url: row.url,
    secret: row.secret,
    contentType: row.content_type === 'form' ? 'form' : 'json',
    events: JSON.parse(row.events) as string[],
    packageGlob: row.package_glob,
    tagGlob: row.tag_glob,
    active: row.active === 1,
    disabledReason: row.disabled_reason,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toDelivery(row: DeliveryRow, bodies: ReadonlyMap<number, string>): Delivery {
  return {
    id: row.id,
    hookId: row.hook_id,
    guid: row.guid,
    event: row.event,
    action: row.action,
    payload: row.payload_id === null ? row.payload : (bodies.get(Number(row.payload_id)) ?? ''),
    state: row.state === 'delivered' ? 'delivered' : row.state === 'failed' ? 'failed' : 'pending',
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    redelivery: row.redelivery === 1,
    createdAt: row.created_at,
  };
}

function toAttempt(row: AttemptRow): DeliveryAttempt {
  return {
    id: row.id,
    deliveryId: row.delivery_id,
    hookId: row.hook_id,
    guid: row.guid,
    event: row.event,
    action: row.action,
    attempt: row.attempt,
    redelivery: row.redelivery === 1,
    at: row.at,
    durationMs: row.duration_ms,
    statusCode: row.status_code,
    status: row.status,
    requestHeaders: JSON.parse(row.request_headers) as Record<string, string>,
    requestBody: row.request_body,
    responseHeaders: JSON.parse(row.response_headers) as Record<string, string>,
    responseBody: row.response_body,
  };
}
