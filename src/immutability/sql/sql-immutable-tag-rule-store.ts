import type { Database } from '../../persistence/database';
import type { ImmutableTagRule, ImmutableTagRuleStore, NewImmutableTagRule } from '../immutable-tag-rules';

interface RuleRow {
  id: number;
  scope: string;
  name: string;
  pattern: string;
  except_globs: string;
  created_at: number | string;
}

const COLUMNS = 'id, scope, name, pattern, except_globs, created_at';

/** The rules on SQLite or PostgreSQL (IMMUTABILITY_MIGRATIONS). */
export class SqlImmutableTagRuleStore implements ImmutableTagRuleStore {
  constructor(private readonly db: Database) {}

  async add(rule: NewImmutableTagRule, now: number): Promise<ImmutableTagRule> {
    const row = await this.db.get<RuleRow>(
      `INSERT INTO immutable_tag_rules (scope, name, pattern, except_globs, created_at) VALUES (?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
      [rule.scope, rule.name, rule.pattern, JSON.stringify(rule.except), now],
    );
    if (!row) throw new Error('an inserted rule came back empty');
    return toRule(row);
  }

  async list(scope: ImmutableTagRule['scope'], name: string): Promise<ImmutableTagRule[]> {
    const rows =
      scope === 'package'
        ? await this.db.all<RuleRow>(`SELECT ${COLUMNS} FROM immutable_tag_rules WHERE scope = 'package' AND name = ? ORDER BY id`, [name])
        : await this.db.all<RuleRow>(
            `SELECT ${COLUMNS} FROM immutable_tag_rules WHERE (scope = 'organisation' AND name = ?)
             OR (scope = 'package' AND name >= ? AND name < ?) ORDER BY id`,
            [name, `${name}/`, `${name}0`],
          );
    return rows.map(toRule);
  }

  async get(id: number): Promise<ImmutableTagRule | null> {
    const row = await this.db.get<RuleRow>(`SELECT ${COLUMNS} FROM immutable_tag_rules WHERE id = ?`, [id]);
    return row ? toRule(row) : null;
  }

  async remove(id: number): Promise<boolean> {
    return (await this.db.run('DELETE FROM immutable_tag_rules WHERE id = ?', [id])).changes > 0;
  }

  async all(): Promise<ImmutableTagRule[]> {
    return (await this.db.all<RuleRow>(`SELECT ${COLUMNS} FROM immutable_tag_rules ORDER BY id`)).map(toRule);
  }
}

function toRule(row: RuleRow): ImmutableTagRule {
  return {
    id: Number(row.id),
    scope: row.scope === 'package' ? 'package' : 'organisation',
    name: row.name,
    pattern: row.pattern,
    except: JSON.parse(row.except_globs) as string[],
    createdAt: Number(row.created_at),
  };
}
