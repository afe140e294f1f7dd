export interface AccessTokenRecord {
  id: number;
  kind: 'pat' | 'ci';
  userId: number;
  repositoryId: number | null;
  name: string;
  scopes: string[];
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface RefreshTokenRecord {
  id: number;
  userId: number;
  accessTokenId: number | null;
  expiresAt: number;
  revokedAt: number | null;
}

export type NewAccessToken = Omit<AccessTokenRecord, 'id' | 'lastUsedAt' | 'revokedAt'> & { secretHash: string };

/** Personal access and CI tokens, and the refresh tokens (docker login identity tokens) minted from them. Only secrets' hashes are kept. */
export interface AccessTokenStore {
  createAccessToken(token: NewAccessToken): Promise<AccessTokenRecord>;
  accessTokenBySecret(secretHash: string): Promise<AccessTokenRecord | null>;
  accessToken(id: number): Promise<AccessTokenRecord | null>;
  /** Ordered by creation (id). */
  listAccessTokens(userId: number): Promise<AccessTokenRecord[]>;
  touchAccessToken(id: number, at: number): Promise<void>;
  /** False when the token does not exist or was revoked already (the first revocation time stays). */
  revokeAccessToken(id: number, at: number): Promise<boolean>;

  createRefreshToken(userId: number, accessTokenId: number | null, secretHash: string, expiresAt: number): Promise<RefreshTokenRecord>;
  refreshTokenBySecret(secretHash: string): Promise<RefreshTokenRecord | null>;
  refreshToken(id: number): Promise<RefreshTokenRecord | null>;
}
