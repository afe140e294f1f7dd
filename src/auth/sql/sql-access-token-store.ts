import type { Database } from '../../persistence/database';
import type { AccessTokenRecord, AccessTokenStore, NewAccessToken, RefreshTokenRecord } from '../stores/access-token-store';

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

const TOKEN_SELECT =
  'SELECT id, kind, user_id, repository_id, name, scopes, created_at, expires_at, last_used_at, revoked_at FROM access_tokens';
const REFRESH_SELECT = 'SELECT id, user_id, access_token_id, expires_at, revoked_at FROM refresh_tokens';

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

/** Access and refresh tokens on SQLite or PostgreSQL; tables from ACCESS_TOKEN_MIGRATIONS. */
export class SqlAccessTokenStore implements AccessTokenStore {
  constructor(private readonly db: Database) {}

  async createAccessToken(t: NewAccessToken): Promise<AccessTokenRecord> {
    const row = await this.db.get<{ id: number }>(
      'INSERT INTO access_tokens (kind, user_id, repository_id, name, secret_hash, scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id',
      [t.kind, t.userId, t.repositoryId, t.name, t.secretHash, JSON.stringify(t.scopes), t.createdAt, t.expiresAt],
    );
    if (!row) throw new Error(`inserting access token ${t.name} returned no id`);
    const { secretHash: _secret, ...record } = t;
    return { ...record, id: row.id, lastUsedAt: null, revokedAt: null };
  }

  async accessTokenBySecret(secretHash: string): Promise<AccessTokenRecord | null> {
    const r = await this.db.get<TokenRow>(`${TOKEN_SELECT} WHERE secret_hash = ?`, [secretHash]);
    return r ? toToken(r) : null;
  }

  async accessToken(id: number): Promise<AccessTokenRecord | null> {
    const r = await this.db.get<TokenRow>(`${TOKEN_SELECT} WHERE id = ?`, [id]);
    return r ? toToken(r) : null;
  }

  async listAccessTokens(userId: number): Promise<AccessTokenRecord[]> {
    return (await this.db.all<TokenRow>(`${TOKEN_SELECT} WHERE user_id = ? ORDER BY id`, [userId])).map(toToken);
  }

  async touchAccessToken(id: number, at: number): Promise<void> {
    await this.db.run('UPDATE access_tokens SET last_used_at = ? WHERE id = ?', [at, id]);
  }

  async revokeAccessToken(id: number, at: number): Promise<boolean> {
    return (await this.db.run('UPDATE access_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [at, id])).changes > 0;
  }

  async createRefreshToken(
    userId: number,
    accessTokenId: number | null,
    secretHash: string,
    expiresAt: number,
  ): Promise<RefreshTokenRecord> {
    const row = await this.db.get<{ id: number }>(
      'INSERT INTO refresh_tokens (user_id, access_token_id, secret_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?) RETURNING id',
      [userId, accessTokenId, secretHash, Date.now(), expiresAt],
    );
    if (!row) throw new Error('inserting a refresh token returned no id');
    return { id: row.id, userId, accessTokenId, expiresAt, revokedAt: null };
  }

  async refreshTokenBySecret(secretHash: string): Promise<RefreshTokenRecord | null> {
    const r = await this.db.get<RefreshRow>(`${REFRESH_SELECT} WHERE secret_hash = ?`, [secretHash]);
    return r ? toRefresh(r) : null;
  }

  async refreshToken(id: number): Promise<RefreshTokenRecord | null> {
    const r = await this.db.get<RefreshRow>(`${REFRESH_SELECT} WHERE id = ?`, [id]);
    return r ? toRefresh(r) : null;
  }
}
