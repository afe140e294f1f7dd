import type { Database } from '../../persistence/database';
import type { FailureWindow, LoginFailureStore } from '../login-throttle';

/**
 * Failed-login windows in the database every Berth process of a deployment
 * shares (cluster workers, replicas), SQLite or PostgreSQL; its table is
 * created by LOGIN_FAILURE_MIGRATIONS. Each failure is one upsert; windows
 * that closed are deleted as new failures arrive, so the table holds only
 * the keys that failed within the last window.
 */
export class SqlLoginFailureStore implements LoginFailureStore {
  constructor(private readonly db: Database) {}

  async get(key: string): Promise<FailureWindow | null> {
    const row = await this.db.get<{ failures: number; started_at: number }>(
      'SELECT failures, started_at FROM login_failures WHERE key = ?',
      [key],
    );
    return row ? { failures: row.failures, startedAt: row.started_at } : null;
  }

  async recordFailure(key: string, now: number, windowMs: number): Promise<void> {
    await this.db.run('DELETE FROM login_failures WHERE started_at <= ?', [now - windowMs]);
    // One statement, so concurrent failures on one key from several processes all count.
    await this.db.run(
      `INSERT INTO login_failures (key, failures, started_at) VALUES (?, 1, ?)
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN ? - login_failures.started_at < ? THEN login_failures.failures + 1 ELSE 1 END,
         started_at = CASE WHEN ? - login_failures.started_at < ? THEN login_failures.started_at ELSE ? END`,
      [key, now, now, windowMs, now, windowMs, now],
    );
  }

  async clear(keys: string[]): Promise<void> {
    // Most logins succeed with no failure on record: read first, write only when there is one.
    for (const key of keys) {
      if (await this.db.get('SELECT 1 AS one FROM login_failures WHERE key = ?', [key])) {
        await this.db.run('DELETE FROM login_failures WHERE key = ?', [key]);
      }
    }
  }
}
