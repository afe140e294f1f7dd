import type { Database } from '../../persistence/database';
import type { RetentionPolicy, RetentionPolicyStore, RetentionRules, RetentionTarget } from '../retention-policy';

interface PolicyRow {
  scope: string;
  name: string;
  rules: string;
  updated_at: number | string;
}

const COLUMNS = 'scope, name, rules, updated_at';

/** The policies on SQLite or PostgreSQL (RETENTION_MIGRATIONS). */
export class SqlRetentionPolicyStore implements RetentionPolicyStore {
  constructor(private readonly db: Database) {}

  async put(target: RetentionTarget, rules: RetentionRules, now: number): Promise<RetentionPolicy> {
    const row = await this.db.get<PolicyRow>(
      `INSERT INTO retention_policies (scope, name, rules, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (scope, name) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at
       RETURNING ${COLUMNS}`,
      [target.scope, target.name, JSON.stringify(rules), now],
    );
    if (!row) throw new Error('a stored retention policy came back empty');
    return toPolicy(row);
  }

  async get(target: RetentionTarget): Promise<RetentionPolicy | null> {
    const row = await this.db.get<PolicyRow>(`SELECT ${COLUMNS} FROM retention_policies WHERE scope = ? AND name = ?`, [
      target.scope,
      target.name,
    ]);
    return row ? toPolicy(row) : null;
  }

  async remove(target: RetentionTarget): Promise<boolean> {
    return (await this.db.run('DELETE FROM retention_policies WHERE scope = ? AND name = ?', [target.scope, target.name])).changes > 0;
  }

  async forOwner(owner: string): Promise<RetentionPolicy[]> {
    // `owner/` up to `owner0` ('0' follows '/'): the owner's packages by range, under the C collation on both.
    const rows = await this.db.all<PolicyRow>(
      `SELECT ${COLUMNS} FROM retention_policies WHERE (scope = 'owner' AND name = ?)
       OR (scope = 'package' AND name >= ? AND name < ?) ORDER BY scope, name`,
      [owner, `${owner}/`, `${owner}0`],
    );
    return rows.map(toPolicy);
  }

  async all(): Promise<RetentionPolicy[]> {
    return (await this.db.all<PolicyRow>(`SELECT ${COLUMNS} FROM retention_policies ORDER BY scope, name`)).map(toPolicy);
  }
}

function toPolicy(row: PolicyRow): RetentionPolicy {
  return {
    scope: row.scope === 'package' ? 'package' : 'owner',
    name: row.name,
    rules: JSON.parse(row.rules) as RetentionRules,
    updatedAt: Number(row.updated_at),
  };
}
