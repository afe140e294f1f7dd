import type { UploadSession, UploadSessionStore } from '../upload-session-store';

interface Entry {
  session: UploadSession;
  lock: { owner: string; expiresAt: number } | null;
}

/** Sessions in process memory: for tests and throwaway runs; lost on restart. */
export class MemoryUploadSessionStore implements UploadSessionStore {
  private readonly entries = new Map<string, Entry>();

  async create(session: UploadSession): Promise<void> {
    if (this.entries.has(session.id)) throw new Error(`upload session ${session.id} already exists`);
    this.entries.set(session.id, { session: { ...session }, lock: null });
  }

  async get(id: string): Promise<UploadSession | null> {
    const entry = this.entries.get(id);
    return entry ? { ...entry.session } : null;
  }

  async setOffset(id: string, offset: number, updatedAt: number, hashState?: string): Promise<boolean> {
    const entry = this.entries.get(id);
    if (!entry) return false;
    entry.session.offset = offset;
    entry.session.updatedAt = updatedAt;
    if (hashState === undefined) delete entry.session.hashState;
    else entry.session.hashState = hashState;
    return true;
  }

  async delete(id: string): Promise<void> {
    this.entries.delete(id);
  }

  async listStale(before: number, limit: number): Promise<UploadSession[]> {
    return [...this.entries.values()]
      .map((e) => e.session)
      .filter((s) => s.updatedAt < before)
      .sort((a, b) => a.updatedAt - b.updatedAt)
      .slice(0, limit)
      .map((s) => ({ ...s }));
  }

  async tryLock(id: string, owner: string, ttlMs: number): Promise<boolean> {
    const entry = this.entries.get(id);
    if (!entry) return false;
    const now = Date.now();
    if (entry.lock && entry.lock.owner !== owner && entry.lock.expiresAt >= now) return false;
    entry.lock = { owner, expiresAt: now + ttlMs };
    return true;
  }

  async unlock(id: string, owner: string): Promise<void> {
    const entry = this.entries.get(id);
    if (entry?.lock?.owner === owner) entry.lock = null;
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
