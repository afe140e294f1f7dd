import type { Database } from '../../persistence/database';
import { uniqueName } from '../../persistence/unique-violation';
import type { Account, AccountKind, AccountStore, OrgRole } from '../stores/account-store';

interface AccountRow {
  id: number;
  name: string;
  kind: AccountKind;
  password_hash: string | null;
  is_admin: number;
  created_at: number;
}

const ACCOUNT_COLUMNS = 'id, name, kind, password_hash, is_admin, created_at';

const toAccount = (r: AccountRow): Account => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  passwordHash: r.password_hash,
  isAdmin: r.is_admin === 1,
  createdAt: r.created_at,
});

/** Accounts and organisation members on SQLite or PostgreSQL; tables from ACCOUNT_MIGRATIONS. */
export class SqlAccountStore implements AccountStore {
  constructor(private readonly db: Database) {}

  async createAccount(name: string, kind: AccountKind, passwordHash: string | null, isAdmin: boolean): Promise<Account> {
    const now = Date.now();
    const row = await uniqueName(`the name "${name}"`, () =>
      this.db.get<{ id: number }>(
        'INSERT INTO accounts (name, kind, password_hash, is_admin, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id',
        [name, kind, passwordHash, isAdmin ? 1 : 0, now],
      ),
    );
    if (!row) throw new Error(`inserting account ${name} returned no id`);
    return { id: row.id, name, kind, passwordHash, isAdmin, createdAt: now };
  }

  async accountByName(name: string): Promise<Account | null> {
    const r = await this.db.get<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE name = ?`, [name]);
    return r ? toAccount(r) : null;
  }

  async accountById(id: number): Promise<Account | null> {
    const r = await this.db.get<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = ?`, [id]);
    return r ? toAccount(r) : null;
  }

  async listAccounts(kind: AccountKind): Promise<Account[]> {
    return (await this.db.all<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE kind = ? ORDER BY name`, [kind])).map(toAccount);
  }

  async setPassword(userId: number, passwordHash: string): Promise<void> {
    await this.db.run("UPDATE accounts SET password_hash = ? WHERE id = ? AND kind = 'user'", [passwordHash, userId]);
  }

  async setAdmin(userId: number, isAdmin: boolean): Promise<void> {
    await this.db.run("UPDATE accounts SET is_admin = ? WHERE id = ? AND kind = 'user'", [isAdmin ? 1 : 0, userId]);
  }

  async deleteAccount(id: number): Promise<boolean> {
    return (await this.db.run('DELETE FROM accounts WHERE id = ?', [id])).changes > 0;
  }

  async setOrgMember(orgId: number, userId: number, role: OrgRole | null): Promise<void> {
    if (role === null) await this.db.run('DELETE FROM org_members WHERE org_id = ? AND user_id = ?', [orgId, userId]);
    else
      await this.db.run(
        'INSERT INTO org_members (org_id, user_id, role) VALUES (?, ?, ?) ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role',
        [orgId, userId, role],
      );
  }

  async orgRole(orgId: number, userId: number): Promise<OrgRole | null> {
    const r = await this.db.get<{ role: OrgRole }>('SELECT role FROM org_members WHERE org_id = ? AND user_id = ?', [orgId, userId]);
    return r?.role ?? null;
  }

  async orgMembers(orgId: number): Promise<Array<{ userId: number; name: string; role: OrgRole }>> {
    const rows = await this.db.all<{ user_id: number; name: string; role: OrgRole }>(
      'SELECT m.user_id, a.name, m.role FROM org_members m JOIN accounts a ON a.id = m.user_id WHERE m.org_id = ? ORDER BY a.name',
      [orgId],
    );
    return rows.map((r) => ({ userId: r.user_id, name: r.name, role: r.role }));
  }

  async orgsOf(userId: number): Promise<Array<{ orgId: number; name: string; role: OrgRole }>> {
    const rows = await this.db.all<{ org_id: number; name: string; role: OrgRole }>(
      'SELECT m.org_id, a.name, m.role FROM org_members m JOIN accounts a ON a.id = m.org_id WHERE m.user_id = ? ORDER BY a.name',
      [userId],
    );
    return rows.map((r) => ({ orgId: r.org_id, name: r.name, role: r.role }));
  }
}
