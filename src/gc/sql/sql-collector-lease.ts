import type { Database } from '../../persistence/database';
import type { CollectorLease } from '../collector-lease';

const LEASE = 'collector';

/** The lease as one row of gc_leases (GC_MIGRATIONS): one upsert takes it only when free, expired or already ours. */
export class SqlCollectorLease implements CollectorLease {
  constructor(private readonly db: Database) {}

  async acquire(holder: string, ttlMs: number, now: number): Promise<boolean> {
    const { changes } = await this.db.run(
      `INSERT INTO gc_leases (name, holder, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE gc_leases.expires_at < ? OR gc_leases.holder = excluded.holder`,
      [LEASE, holder, now + ttlMs, now],
    );
    return changes === 1;
  }

  async release(holder: string): Promise<void> {
    await this.db.run('DELETE FROM gc_leases WHERE name = ? AND holder = ?', [LEASE, holder]);
  }
}
