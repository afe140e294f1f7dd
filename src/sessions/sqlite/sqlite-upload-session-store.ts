import { readFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import os from 'node:os';
import type { UploadSession, UploadSessionStore } from '../upload-session-store';
import { guardLocal } from '../../storage/storage-faults';

interface SessionRow {
  id: string;
  repository: string;
  offset: number;
  started_at: number;
  updated_at: number;
  hash_state: string | null;
}

/**
 * The embedded default: sessions in the SQLite file beside the index, so an
 * upload survives a restart or crash, and processes sharing the file share
 * sessions and locks. A full disk or a locked, unreadable file leaves every
 * method as a typed storage fault (StorageFullError, StorageUnavailableError).
 */
export class SqliteUploadSessionStore implements UploadSessionStore {
  private readonly stmt;

  constructor(db: Database.Database) {
    this.stmt = {
      insert: db.prepare(
        'INSERT INTO upload_sessions (id, repository, offset, started_at, updated_at, hash_state) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      get: db.prepare<[string], SessionRow>(
        'SELECT id, repository, offset, started_at, updated_at, hash_state FROM upload_sessions WHERE id = ?',
      ),
      setOffset: db.prepare('UPDATE upload_sessions SET offset = ?, updated_at = ?, hash_state = ? WHERE id = ?'),
      delete: db.prepare('DELETE FROM upload_sessions WHERE id = ?'),
      stale: db.prepare<[number, number], SessionRow>(
        'SELECT id, repository, offset, started_at, updated_at, hash_state FROM upload_sessions WHERE updated_at < ? ORDER BY updated_at LIMIT ?',
      ),
      lock: db.prepare(
        `UPDATE upload_sessions SET lock_owner = ?, lock_expires_at = ?
         WHERE id = ? AND (lock_owner IS NULL OR lock_owner = ? OR lock_expires_at < ?)`,
      ),
      lockOwner: db.prepare<[string], { lock_owner: string | null }>('SELECT lock_owner FROM upload_sessions WHERE id = ?'),
      steal: db.prepare('UPDATE upload_sessions SET lock_owner = ?, lock_expires_at = ? WHERE id = ? AND lock_owner = ?'),
      unlock: db.prepare('UPDATE upload_sessions SET lock_owner = NULL, lock_expires_at = NULL WHERE id = ? AND lock_owner = ?'),
    };
  }

  async create(session: UploadSession): Promise<void> {
    await guardLocal(async () => {
      this.stmt.insert.run(session.id, session.repository, session.offset, session.startedAt, session.updatedAt, session.hashState ?? null);
    });
  }

  async get(id: string): Promise<UploadSession | null> {
    const row = await guardLocal(async () => this.stmt.get.get(id));
    return row ? fromRow(row) : null;
  }

  async setOffset(id: string, offset: number, updatedAt: number, hashState?: string): Promise<boolean> {
    return guardLocal(async () => this.stmt.setOffset.run(offset, updatedAt, hashState ?? null, id).changes > 0);
  }

  async delete(id: string): Promise<void> {
    await guardLocal(async () => this.stmt.delete.run(id));
  }

  async listStale(before: number, limit: number): Promise<UploadSession[]> {
    return guardLocal(async () => this.stmt.stale.all(before, limit).map(fromRow));
  }

  async tryLock(id: string, owner: string, ttlMs: number): Promise<boolean> {
    return guardLocal(async () => this.lock(id, owner, ttlMs));
  }

  private lock(id: string, owner: string, ttlMs: number): boolean {
    const now = Date.now();
    if (this.stmt.lock.run(owner, now + ttlMs, id, owner, now).changes > 0) return true;
    // Everyone sharing this file is on this host, so a holder that died (kill -9,
    // crash) can be recognised at once instead of making the client wait out the TTL.
    const holder = this.stmt.lockOwner.get(id)?.lock_owner;
    if (holder && holderIsDead(holder)) {
      return this.stmt.steal.run(owner, now + ttlMs, id, holder).changes > 0;
    }
    return false;
  }

  async unlock(id: string, owner: string): Promise<void> {
    await guardLocal(async () => this.stmt.unlock.run(id, owner));
  }

  async close(): Promise<void> {
    // The database handle is owned by whoever opened it.
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
