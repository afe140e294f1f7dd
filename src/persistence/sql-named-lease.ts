import type { Database } from './database';

/**
 * A named lease in the database: whoever holds it (and keeps renewing it) is the only one doing the work it
 * names, whatever the number of workers and replicas. A holder that dies loses it when it expires.
 */
export interface NamedLease {
  /** Takes or renews the lease until `now + ttlMs`; false when another holder's lease has not expired. */
  acquire(holder: string, ttlMs: number, now: number): Promise<boolean>;
  /** Gives the lease up, if `holder` still has it. */
  release(holder: string): Promise<void>;
}

/**
 * The lease as one row `(name, holder, expires_at)` of a store's own lease table (each store owns its table;
 * this is the one implementation of taking and renewing a row): one upsert takes it only when free, expired or
 * already ours.
 */
export class SqlNamedLease implements NamedLease {
  constructor(
    private readonly db: Database,
    /** A table name from the owning store's migrations, never from input. */
    private readonly table: string,
    private readonly name: string,
  ) {}

  async acquire(holder: string, ttlMs: number, now: number): Promise<boolean> {
    const { changes } = await this.db.run(
      `INSERT INTO ${this.table} (name, holder, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE ${this.table}.expires_at < ? OR ${this.table}.holder = excluded.holder`,
      [this.name, holder, now + ttlMs, now],
    );
    return changes === 1;
  }

  async release(holder: string): Promise<void> {
    await this.db.run(`DELETE FROM ${this.table} WHERE name = ? AND holder = ?`, [this.name, holder]);
  }
}
