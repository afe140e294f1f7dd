import type Database from 'better-sqlite3';
import type { FailureWindow, LoginFailureStore } from '../login-throttle';

/**
 * Failed-login windows in the SQLite file every Berth process of a
 * deployment shares (cluster workers, replicas). Each failure is one
 * upsert; windows that closed are deleted as new failures arrive, so the
 * table holds only the keys that failed within the last window.
 */
export class SqliteLoginFailureStore implements LoginFailureStore {
  private readonly stmt;

  constructor(db: Database.Database) {
    this.stmt = {
      get: db.prepare<[string], { failures: number; started_at: number }>('SELECT failures, started_at FROM login_failures WHERE key = ?'),
      record: db.prepare<{ key: string; now: number; windowMs: number }>(
        `INSERT INTO login_failures (key, failures, started_at) VALUES (@key, 1, @now)
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN @now - started_at < @windowMs THEN failures + 1 ELSE 1 END,
           started_at = CASE WHEN @now - started_at < @windowMs THEN started_at ELSE @now END`,
      ),
      purge: db.prepare<[number]>('DELETE FROM login_failures WHERE started_at <= ?'),
      exists: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM login_failures WHERE key = ?'),
      clear: db.prepare<[string]>('DELETE FROM login_failures WHERE key = ?'),
    };
  }

  get(key: string): FailureWindow | null {
    const row = this.stmt.get.get(key);
    return row ? { failures: row.failures, startedAt: row.started_at } : null;
  }

  recordFailure(key: string, now: number, windowMs: number): void {
    this.stmt.purge.run(now - windowMs);
    this.stmt.record.run({ key, now, windowMs });
  }

  clear(keys: string[]): void {
    // Most logins succeed with no failure on record: read first, write only when there is one.
    for (const key of keys) if (this.stmt.exists.get(key)) this.stmt.clear.run(key);
  }
}
