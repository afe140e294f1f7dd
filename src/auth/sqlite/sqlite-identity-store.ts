import type Database from 'better-sqlite3';
import type {
  AccessTokenRecord,
  Account,
  AccountKind,
  IdentityStore,
  OrgRole,
  PackageRecord,
  RefreshTokenRecord,
  RepositoryRole,
  SigningKeyRecord,
  SourceRepository,
  Visibility,
} from '../identity-store';

interface AccountRow {
  id: number;
  name: string;
  kind: AccountKind;
  password_hash: string | null;
  is_admin: number;
  created_at: number;
}
interface RepositoryRow {
  id: number;
  owner_id: number;
  owner_name: string;
  name: string;
  visibility: Visibility;
  created_at: number;
}
interface PackageRow {
  name: string;
  owner_id: number;
  source_repository_id: number | null;
  visibility: Visibility;
  created_at: number;
}
interface TokenRow {
  id: number;
  kind: 'pat' | 'ci';
  user_id: number;
  repository_id: number | null;
  name: string;
  scopes: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}
interface RefreshRow {
  id: number;
  user_id: number;
  access_token_id: number | null;
  expires_at: number;
  revoked_at: number | null;
}
interface KeyRow {
  kid: string;
  algorithm: string;
  private_pem: string;
  public_pem: string;
  created_at: number;
  retired_at: number | null;
}

const toAccount = (r: AccountRow): Account => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  passwordHash: r.password_hash,
  isAdmin: r.is_admin === 1,
  createdAt: r.created_at,
});
const toRepository = (r: RepositoryRow): SourceRepository => ({
  id: r.id,
  ownerId: r.owner_id,
  ownerName: r.owner_name,
  name: r.name,
  visibility: r.visibility,
  createdAt: r.created_at,
});
const toPackage = (r: PackageRow): PackageRecord => ({
  name: r.name,
  ownerId: r.owner_id,
  sourceRepositoryId: r.source_repository_id,
  visibility: r.visibility,
  createdAt: r.created_at,
});
const toToken = (r: TokenRow): AccessTokenRecord => ({
  id: r.id,
  kind: r.kind,
  userId: r.user_id,
  repositoryId: r.repository_id,
  name: r.name,
  scopes: JSON.parse(r.scopes) as string[],
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});
const toRefresh = (r: RefreshRow): RefreshTokenRecord => ({
  id: r.id,
  userId: r.user_id,
  accessTokenId: r.access_token_id,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
});

const REPO_SELECT =
  'SELECT r.id, r.owner_id, a.name AS owner_name, r.name, r.visibility, r.created_at FROM source_repositories r JOIN accounts a ON a.id = r.owner_id';
const TOKEN_COLUMNS = 'id, kind, user_id, repository_id, name, scopes, created_at, expires_at, last_used_at, revoked_at';

/** The identity store on the SQLite file shared with the registry index. */
export class SqliteIdentityStore implements IdentityStore {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      insertAccount: db.prepare('INSERT INTO accounts (name, kind, password_hash, is_admin, created_at) VALUES (?, ?, ?, ?, ?)'),
      accountByName: db.prepare<[string], AccountRow>('SELECT * FROM accounts WHERE name = ?'),
      accountById: db.prepare<[number], AccountRow>('SELECT * FROM accounts WHERE id = ?'),
      accountsByKind: db.prepare<[string], AccountRow>('SELECT * FROM accounts WHERE kind = ? ORDER BY name'),
      setPassword: db.prepare("UPDATE accounts SET password_hash = ? WHERE id = ? AND kind = 'user'"),
      setAdmin: db.prepare("UPDATE accounts SET is_admin = ? WHERE id = ? AND kind = 'user'"),
      deleteAccount: db.prepare('DELETE FROM accounts WHERE id = ?'),
      upsertMember: db.prepare(
        'INSERT INTO org_members (org_id, user_id, role) VALUES (?, ?, ?) ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role',
      ),
      deleteMember: db.prepare('DELETE FROM org_members WHERE org_id = ? AND user_id = ?'),
      orgRole: db.prepare<[number, number], { role: OrgRole }>('SELECT role FROM org_members WHERE org_id = ? AND user_id = ?'),
      orgMembers: db.prepare<[number], { user_id: number; name: string; role: OrgRole }>(
        'SELECT m.user_id, a.name, m.role FROM org_members m JOIN accounts a ON a.id = m.user_id WHERE m.org_id = ? ORDER BY a.name',
      ),
      orgsOf: db.prepare<[number], { org_id: number; name: string; role: OrgRole }>(
        'SELECT m.org_id, a.name, m.role FROM org_members m JOIN accounts a ON a.id = m.org_id WHERE m.user_id = ? ORDER BY a.name',
      ),
      insertRepository: db.prepare('INSERT INTO source_repositories (owner_id, name, visibility, created_at) VALUES (?, ?, ?, ?)'),
      repository: db.prepare<[string, string], RepositoryRow>(`${REPO_SELECT} WHERE a.name = ? AND r.name = ?`),
      repositoryById: db.prepare<[number], RepositoryRow>(`${REPO_SELECT} WHERE r.id = ?`),
      repositoriesOf: db.prepare<[number], RepositoryRow>(`${REPO_SELECT} WHERE r.owner_id = ? ORDER BY r.name`),
      setVisibility: db.prepare('UPDATE source_repositories SET visibility = ? WHERE id = ?'),
      deleteRepository: db.prepare('DELETE FROM source_repositories WHERE id = ?'),
      upsertCollaborator: db.prepare(
        'INSERT INTO repository_collaborators (repository_id, user_id, role) VALUES (?, ?, ?) ON CONFLICT (repository_id, user_id) DO UPDATE SET role = excluded.role',
      ),
      deleteCollaborator: db.prepare('DELETE FROM repository_collaborators WHERE repository_id = ? AND user_id = ?'),
      collaboratorRole: db.prepare<[number, number], { role: RepositoryRole }>(
        'SELECT role FROM repository_collaborators WHERE repository_id = ? AND user_id = ?',
      ),
      collaborators: db.prepare<[number], { user_id: number; name: string; role: RepositoryRole }>(
        'SELECT c.user_id, a.name, c.role FROM repository_collaborators c JOIN accounts a ON a.id = c.user_id WHERE c.repository_id = ? ORDER BY a.name',
      ),
      package: db.prepare<[string], PackageRow>('SELECT * FROM packages WHERE name = ?'),
      insertPackage: db.prepare(
        'INSERT OR IGNORE INTO packages (name, owner_id, source_repository_id, visibility, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      linkPackage: db.prepare('UPDATE packages SET source_repository_id = ? WHERE name = ?'),
      packageVisibility: db.prepare('UPDATE packages SET visibility = ? WHERE name = ?'),
      packagesOfOwner: db.prepare<[number], PackageRow>('SELECT * FROM packages WHERE owner_id = ? ORDER BY name'),
      packagesOfRepository: db.prepare<[number], PackageRow>('SELECT * FROM packages WHERE source_repository_id = ? ORDER BY name'),
      allPackages: db.prepare<[], PackageRow>('SELECT * FROM packages ORDER BY name'),
      insertToken: db.prepare(
        'INSERT INTO access_tokens (kind, user_id, repository_id, name, secret_hash, scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      tokenBySecret: db.prepare<[string], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM access_tokens WHERE secret_hash = ?`),
      token: db.prepare<[number], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM access_tokens WHERE id = ?`),
      tokensOf: db.prepare<[number], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM access_tokens WHERE user_id = ? ORDER BY id`),
      touchToken: db.prepare('UPDATE access_tokens SET last_used_at = ? WHERE id = ?'),
      revokeToken: db.prepare('UPDATE access_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      insertRefresh: db.prepare(
        'INSERT INTO refresh_tokens (user_id, access_token_id, secret_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
      ),
      refreshBySecret: db.prepare<[string], RefreshRow>(
        'SELECT id, user_id, access_token_id, expires_at, revoked_at FROM refresh_tokens WHERE secret_hash = ?',
      ),
      refresh: db.prepare<[number], RefreshRow>(
        'SELECT id, user_id, access_token_id, expires_at, revoked_at FROM refresh_tokens WHERE id = ?',
      ),
      insertSession: db.prepare('INSERT INTO web_sessions (secret_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)'),
      sessionUser: db.prepare<[string, number], { user_id: number }>(
        'SELECT user_id FROM web_sessions WHERE secret_hash = ? AND expires_at > ?',
      ),
      deleteSession: db.prepare('DELETE FROM web_sessions WHERE secret_hash = ?'),
      keys: db.prepare<[], KeyRow>('SELECT * FROM signing_keys ORDER BY created_at'),
      insertKey: db.prepare(
        'INSERT INTO signing_keys (kid, algorithm, private_pem, public_pem, created_at, retired_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      retireKey: db.prepare('UPDATE signing_keys SET retired_at = ? WHERE kid = ? AND retired_at IS NULL'),
    };
  }

  async createAccount(name: string, kind: AccountKind, passwordHash: string | null, isAdmin: boolean): Promise<Account> {
    const now = Date.now();
    const id = Number(this.s.insertAccount.run(name, kind, passwordHash, isAdmin ? 1 : 0, now).lastInsertRowid);
    return { id, name, kind, passwordHash, isAdmin, createdAt: now };
  }
  async accountByName(name: string): Promise<Account | null> {
    const r = this.s.accountByName.get(name);
    return r ? toAccount(r) : null;
  }
  async accountById(id: number): Promise<Account | null> {
    const r = this.s.accountById.get(id);
    return r ? toAccount(r) : null;
  }
  async listAccounts(kind: AccountKind): Promise<Account[]> {
    return this.s.accountsByKind.all(kind).map(toAccount);
  }
  async setPassword(userId: number, passwordHash: string): Promise<void> {
    this.s.setPassword.run(passwordHash, userId);
  }
  async setAdmin(userId: number, isAdmin: boolean): Promise<void> {
    this.s.setAdmin.run(isAdmin ? 1 : 0, userId);
  }
  async deleteAccount(id: number): Promise<boolean> {
    return this.s.deleteAccount.run(id).changes > 0;
  }

  async setOrgMember(orgId: number, userId: number, role: OrgRole | null): Promise<void> {
    if (role === null) this.s.deleteMember.run(orgId, userId);
    else this.s.upsertMember.run(orgId, userId, role);
  }
  async orgRole(orgId: number, userId: number): Promise<OrgRole | null> {
    return this.s.orgRole.get(orgId, userId)?.role ?? null;
  }
  async orgMembers(orgId: number) {
    return this.s.orgMembers.all(orgId).map((r) => ({ userId: r.user_id, name: r.name, role: r.role }));
  }
  async orgsOf(userId: number) {
    return this.s.orgsOf.all(userId).map((r) => ({ orgId: r.org_id, name: r.name, role: r.role }));
  }

  async createRepository(ownerId: number, name: string, visibility: Visibility): Promise<SourceRepository> {
    const id = Number(this.s.insertRepository.run(ownerId, name, visibility, Date.now()).lastInsertRowid);
    const created = this.s.repositoryById.get(id);
    if (!created) throw new Error(`repository ${id} vanished after insert`);
    return toRepository(created);
  }
  async repository(ownerName: string, name: string): Promise<SourceRepository | null> {
    const r = this.s.repository.get(ownerName, name);
    return r ? toRepository(r) : null;
  }
  async repositoryById(id: number): Promise<SourceRepository | null> {
    const r = this.s.repositoryById.get(id);
    return r ? toRepository(r) : null;
  }
  async listRepositories(ownerId: number): Promise<SourceRepository[]> {
    return this.s.repositoriesOf.all(ownerId).map(toRepository);
  }
  async setRepositoryVisibility(id: number, visibility: Visibility): Promise<void> {
    this.s.setVisibility.run(visibility, id);
  }
  async deleteRepository(id: number): Promise<boolean> {
    return this.s.deleteRepository.run(id).changes > 0;
  }
  async setCollaborator(repositoryId: number, userId: number, role: RepositoryRole | null): Promise<void> {
    if (role === null) this.s.deleteCollaborator.run(repositoryId, userId);
    else this.s.upsertCollaborator.run(repositoryId, userId, role);
  }
  async collaboratorRole(repositoryId: number, userId: number): Promise<RepositoryRole | null> {
    return this.s.collaboratorRole.get(repositoryId, userId)?.role ?? null;
  }
  async collaborators(repositoryId: number) {
    return this.s.collaborators.all(repositoryId).map((r) => ({ userId: r.user_id, name: r.name, role: r.role }));
  }

  async package(name: string): Promise<PackageRecord | null> {
    const r = this.s.package.get(name);
    return r ? toPackage(r) : null;
  }
  async ensurePackage(record: PackageRecord): Promise<PackageRecord> {
    this.s.insertPackage.run(record.name, record.ownerId, record.sourceRepositoryId, record.visibility, record.createdAt);
    const stored = this.s.package.get(record.name);
    if (!stored) throw new Error(`package ${record.name} vanished after insert`);
    return toPackage(stored);
  }
  async linkPackage(name: string, repositoryId: number | null): Promise<void> {
    this.s.linkPackage.run(repositoryId, name);
  }
  async setPackageVisibility(name: string, visibility: Visibility): Promise<void> {
    this.s.packageVisibility.run(visibility, name);
  }
  async listPackages(filter: { ownerId?: number; repositoryId?: number }): Promise<PackageRecord[]> {
    if (filter.repositoryId !== undefined) return this.s.packagesOfRepository.all(filter.repositoryId).map(toPackage);
    if (filter.ownerId !== undefined) return this.s.packagesOfOwner.all(filter.ownerId).map(toPackage);
    return this.s.allPackages.all().map(toPackage);
  }

  async createAccessToken(
    t: Omit<AccessTokenRecord, 'id' | 'lastUsedAt' | 'revokedAt'> & { secretHash: string },
  ): Promise<AccessTokenRecord> {
    const id = Number(
      this.s.insertToken.run(t.kind, t.userId, t.repositoryId, t.name, t.secretHash, JSON.stringify(t.scopes), t.createdAt, t.expiresAt)
        .lastInsertRowid,
    );
    return {
      id,
      kind: t.kind,
      userId: t.userId,
      repositoryId: t.repositoryId,
      name: t.name,
      scopes: t.scopes,
      createdAt: t.createdAt,
      expiresAt: t.expiresAt,
      lastUsedAt: null,
      revokedAt: null,
    };
  }
  async accessTokenBySecret(secretHash: string): Promise<AccessTokenRecord | null> {
    const r = this.s.tokenBySecret.get(secretHash);
    return r ? toToken(r) : null;
  }
  async accessToken(id: number): Promise<AccessTokenRecord | null> {
    const r = this.s.token.get(id);
    return r ? toToken(r) : null;
  }
  async listAccessTokens(userId: number): Promise<AccessTokenRecord[]> {
    return this.s.tokensOf.all(userId).map(toToken);
  }
  async touchAccessToken(id: number, at: number): Promise<void> {
    this.s.touchToken.run(at, id);
  }
  async revokeAccessToken(id: number, at: number): Promise<boolean> {
    return this.s.revokeToken.run(at, id).changes > 0;
  }

  async createRefreshToken(
    userId: number,
    accessTokenId: number | null,
    secretHash: string,
    expiresAt: number,
  ): Promise<RefreshTokenRecord> {
    const id = Number(this.s.insertRefresh.run(userId, accessTokenId, secretHash, Date.now(), expiresAt).lastInsertRowid);
    return { id, userId, accessTokenId, expiresAt, revokedAt: null };
  }
  async refreshTokenBySecret(secretHash: string): Promise<RefreshTokenRecord | null> {
    const r = this.s.refreshBySecret.get(secretHash);
    return r ? toRefresh(r) : null;
  }
  async refreshToken(id: number): Promise<RefreshTokenRecord | null> {
    const r = this.s.refresh.get(id);
    return r ? toRefresh(r) : null;
  }

  async createSession(secretHash: string, userId: number, expiresAt: number): Promise<void> {
    this.s.insertSession.run(secretHash, userId, Date.now(), expiresAt);
  }
  async sessionUser(secretHash: string, now: number): Promise<number | null> {
    return this.s.sessionUser.get(secretHash, now)?.user_id ?? null;
  }
  async deleteSession(secretHash: string): Promise<void> {
    this.s.deleteSession.run(secretHash);
  }

  async signingKeys(): Promise<SigningKeyRecord[]> {
    return this.s.keys.all().map((r) => ({
      kid: r.kid,
      algorithm: r.algorithm,
      privatePem: r.private_pem,
      publicPem: r.public_pem,
      createdAt: r.created_at,
      retiredAt: r.retired_at,
    }));
  }
  async addSigningKey(k: SigningKeyRecord): Promise<void> {
    this.s.insertKey.run(k.kid, k.algorithm, k.privatePem, k.publicPem, k.createdAt, k.retiredAt);
  }
  async retireSigningKey(kid: string, at: number): Promise<void> {
    this.s.retireKey.run(at, kid);
  }
}
