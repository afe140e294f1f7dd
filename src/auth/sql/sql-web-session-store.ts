import type { Database } from '../../persistence/database';
import type { WebSessionStore } from '../stores/web-session-store';

/** Web sessions on SQLite or PostgreSQL; table from WEB_SESSION_MIGRATIONS. */
export class SqlWebSessionStore implements WebSessionStore {
  constructor(private readonly db: Database) {}

  async createSession(secretHash: string, userId: number, expiresAt: number): Promise<void> {
    await this.db.run('INSERT INTO web_sessions (secret_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)', [
      secretHash,
      userId,
      Date.now(),
      expiresAt,
    ]);
  }

  async sessionUser(secretHash: string, now: number): Promise<number | null> {
    const r = await this.db.get<{ user_id: number }>('SELECT user_id FROM web_sessions WHERE secret_hash = ? AND expires_at > ?', [
      secretHash,
      now,
    ]);
    return r?.user_id ?? null;
  }

  async deleteSession(secretHash: string): Promise<void> {
    await this.db.run('DELETE FROM web_sessions WHERE secret_hash = ?', [secretHash]);
  }
}
