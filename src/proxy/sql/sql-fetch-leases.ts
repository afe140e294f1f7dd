import type { Database } from '../../persistence/database';
import type { FetchLeases } from '../fetch-leases';

/** FetchLeases in the proxy_fetch_leases table, one statement each, on SQLite and PostgreSQL alike. */
export class SqlFetchLeases implements FetchLeases {
  constructor(private readonly db: Database) {}

  async acquire(repository: string, digest: string, holder: string, now: number, ttlMs: number): Promise<boolean> {
    // An upsert that overwrites only an expired lease: one statement, so two takers cannot both win.
    const { changes } = await this.db.run(
      `INSERT INTO proxy_fetch_leases (repository, digest, holder, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (repository, digest) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE proxy_fetch_leases.expires_at <= ?`,
      [repository, digest, holder, now + ttlMs, now],
    );
    return changes === 1;
  }

  async renew(repository: string, digest: string, holder: string, now: number, ttlMs: number): Promise<boolean> {
    const { changes } = await this.db.run(
      'UPDATE proxy_fetch_leases SET expires_at = ? WHERE repository = ? AND digest = ? AND holder = ?',
      [now + ttlMs, repository, digest, holder],
    );
    return changes === 1;
  }

  async release(repository: string, digest: string, holder: string): Promise<void> {
    await this.db.run('DELETE FROM proxy_fetch_leases WHERE repository = ? AND digest = ? AND holder = ?', [repository, digest, holder]);
  }

  async held(repository: string, digest: string, now: number): Promise<boolean> {
    const row = await this.db.get<{ one: number }>(
      'SELECT 1 AS one FROM proxy_fetch_leases WHERE repository = ? AND digest = ? AND expires_at > ?',
      [repository, digest, now],
    );
    return row !== undefined;
  }
}
