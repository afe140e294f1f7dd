import type { Database } from '../../persistence/database';
import type { QuotaLimits, QuotaLimitStore, StoredQuotaLimits } from '../quota-limits';

interface LimitRow {
  owner: string;
  max_bytes: number | string | null;
  max_versions_per_package: number | string | null;
  updated_at: number | string;
}

const COLUMNS = 'owner, max_bytes, max_versions_per_package, updated_at';

/** The limits on SQLite or PostgreSQL (QUOTA_MIGRATIONS). */
export class SqlQuotaLimitStore implements QuotaLimitStore {
  constructor(private readonly db: Database) {}

  async set(owner: string, limits: QuotaLimits, now: number): Promise<StoredQuotaLimits> {
    const row = await this.db.get<LimitRow>(
      `INSERT INTO quota_limits (${COLUMNS}) VALUES (?, ?, ?, ?)
       ON CONFLICT (owner) DO UPDATE SET max_bytes = excluded.max_bytes,
         max_versions_per_package = excluded.max_versions_per_package, updated_at = excluded.updated_at
       RETURNING ${COLUMNS}`,
      [owner, limits.maxBytes, limits.maxVersionsPerPackage, now],
    );
    if (!row) throw new Error('stored quota limits came back empty');
    return toLimits(row);
  }

  async get(owner: string): Promise<StoredQuotaLimits | null> {
    const row = await this.db.get<LimitRow>(`SELECT ${COLUMNS} FROM quota_limits WHERE owner = ?`, [owner]);
    return row ? toLimits(row) : null;
  }

  async remove(owner: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM quota_limits WHERE owner = ?', [owner])).changes > 0;
  }
}

function toLimits(row: LimitRow): StoredQuotaLimits {
  return {
    owner: row.owner,
    maxBytes: row.max_bytes === null ? null : Number(row.max_bytes),
    maxVersionsPerPackage: row.max_versions_per_package === null ? null : Number(row.max_versions_per_package),
    updatedAt: Number(row.updated_at),
  };
}
