import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { Database } from '../../persistence/database';
import { guardLocal } from '../../storage/storage-faults';
import type { UploadSession, UploadSessionStore } from '../upload-session-store';

interface SessionRow {
  id: string;
  repository: string;
  offset: number;
  started_at: number;
  updated_at: number;
  hash_state: string | null;
}

const COLUMNS = 'id, repository, "offset", started_at, updated_at, hash_state';

/**
 * Upload sessions in the database (tables: UPLOAD_SESSION_MIGRATIONS), so an
 * upload survives a restart or crash, and every process on the database
 * shares sessions and locks. Used when no Redis is configured.
 *
 * A lock whose holder died: on SQLite everyone sharing the file is on this
 * host, so a holder named `<host>/<pid>/…` whose process is gone (or a zombie)
 * is recognised at once instead of making the client wait out the TTL. On
 * PostgreSQL the holders are on several hosts, and a host name alone does not
 * prove a holder is local (two containers on two machines may share one), so
 * taking over on a local PID check could let two replicas write one upload:
 * there, locks only expire (the composition root gives them a short TTL,
 * refreshed while a chunk streams, as for Redis).
 *
 * A full disk or a locked, unreadable SQLite file leaves every method as a
 * typed storage fault (StorageFullError, StorageUnavailableError).
 */
export class SqlUploadSessionStore implements UploadSessionStore {
  private readonly takeOverDeadHolders: boolean;

  constructor(private readonly db: Database) {
    this.takeOverDeadHolders = db.dialect === 'sqlite';
  }

  async create(session: UploadSession): Promise<void> {
    await guardLocal(() =>
      this.db.run(`INSERT INTO upload_sessions (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`, [
        session.id,
        session.repository,
        session.offset,
        session.startedAt,
        session.updatedAt,
        session.hashState ?? null,
      ]),
    );
  }

  async get(id: string): Promise<UploadSession | null> {
    const row = await guardLocal(() => this.db.get<SessionRow>(`SELECT ${COLUMNS} FROM upload_sessions WHERE id = ?`, [id]));
    return row ? fromRow(row) : null;
  }

  async setOffset(id: string, offset: number, updatedAt: number, hashState?: string): Promise<boolean> {
    const { changes } = await guardLocal(() =>
      this.db.run('UPDATE upload_sessions SET "offset" = ?, updated_at = ?, hash_state = ? WHERE id = ?', [
        offset,
        updatedAt,
        hashState ?? null,
        id,
      ]),
    );
    return changes > 0;
  }

  async delete(id: string): Promise<void> {
    await guardLocal(() => this.db.run('DELETE FROM upload_sessions WHERE id = ?', [id]));
  }

  async listStale(before: number, limit: number): Promise<UploadSession[]> {
    const rows = await guardLocal(() =>
      this.db.all<SessionRow>(`SELECT ${COLUMNS} FROM upload_sessions WHERE updated_at < ? ORDER BY updated_at LIMIT ?`, [before, limit]),
    );
    return rows.map(fromRow);
  }

  async tryLock(id: string, owner: string, ttlMs: number): Promise<boolean> {
    return guardLocal(() => this.lock(id, owner, ttlMs));
  }

  private async lock(id: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const taken = await this.db.run(
      `UPDATE upload_sessions SET lock_owner = ?, lock_expires_at = ?
       WHERE id = ? AND (lock_owner IS NULL OR lock_owner = ? OR lock_expires_at < ?)`,
      [owner, now + ttlMs, id, owner, now],
    );
    if (taken.changes > 0) return true;
    if (!this.takeOverDeadHolders) return false;
    const holder = (await this.db.get<{ lock_owner: string | null }>('SELECT lock_owner FROM upload_sessions WHERE id = ?', [id]))
      ?.lock_owner;
    if (!holder || !holderIsDead(holder)) return false;
    // Only from that same holder: another process that took it over first keeps it.
    const stolen = await this.db.run('UPDATE upload_sessions SET lock_owner = ?, lock_expires_at = ? WHERE id = ? AND lock_owner = ?', [
      owner,
      now + ttlMs,
      id,
      holder,
    ]);
    return stolen.changes > 0;
  }

  async unlock(id: string, owner: string): Promise<void> {
    await guardLocal(() =>
      this.db.run('UPDATE upload_sessions SET lock_owner = NULL, lock_expires_at = NULL WHERE id = ? AND lock_owner = ?', [id, owner]),
    );
  }

  async close(): Promise<void> {
    // The database is owned by whoever connected it.
  }
}

function fromRow(row: SessionRow): UploadSession {
  const session: UploadSession = {
    id: row.id,
    repository: row.repository,
    offset: row.offset,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
  };
  if (row.hash_state !== null) session.hashState = row.hash_state;
  return session;
}

/** Lock owners named `<host>/<pid>/<anything>` whose process no longer exists on this host. */
function holderIsDead(owner: string): boolean {
  const [host, pidText] = owner.split('/');
  const pid = Number(pidText);
  if (host !== os.hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  // Signal 0 reaches a zombie too: a process that has exited but whose parent has not reaped it
  // yet, as happens for seconds to the workers of a cluster primary killed with SIGKILL.
  const state = processState(pid);
  return state === 'Z' || state === 'X';
}

/** The state letter in /proc/<pid>/stat (R, S, D, Z…), or null where there is no such file. */
function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: the state follows its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) || null;
  } catch {
    return null;
  }
}
