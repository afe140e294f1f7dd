export type AccountKind = 'user' | 'org';
export type Visibility = 'public' | 'private';
export type OrgRole = 'owner' | 'member';
export type RepositoryRole = 'read' | 'write' | 'admin';

export interface Account {
  id: number;
  name: string;
  kind: AccountKind;
  passwordHash: string | null;
  isAdmin: boolean;
  createdAt: number;
}

export interface SourceRepository {
  id: number;
  ownerId: number;
  ownerName: string;
  name: string;
  visibility: Visibility;
  createdAt: number;
}

export interface PackageRecord {
  name: string;
  ownerId: number;
  sourceRepositoryId: number | null;
  /** The package's own visibility; a linked package uses its repository's instead. */
  visibility: Visibility;
  createdAt: number;
}

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

export interface SigningKeyRecord {
  kid: string;
  algorithm: string;
  privatePem: string;
  publicPem: string;
  createdAt: number;
  retiredAt: number | null;
}

/**
 * Users, organisations, source repositories, packages and credentials.
 * SQLite for the embedded default; the interface keeps room for a network
 * database when replicas span hosts.
 */
export interface IdentityStore {
  createAccount(name: string, kind: AccountKind, passwordHash: string | null, isAdmin: boolean): Promise<Account>;
  accountByName(name: string): Promise<Account | null>;
  accountById(id: number): Promise<Account | null>;
  listAccounts(kind: AccountKind): Promise<Account[]>;
  setPassword(userId: number, passwordHash: string): Promise<void>;
  setAdmin(userId: number, isAdmin: boolean): Promise<void>;
  deleteAccount(id: number): Promise<boolean>;

  setOrgMember(orgId: number, userId: number, role: OrgRole | null): Promise<void>;
  orgRole(orgId: number, userId: number): Promise<OrgRole | null>;
  orgMembers(orgId: number): Promise<Array<{ userId: number; name: string; role: OrgRole }>>;
  orgsOf(userId: number): Promise<Array<{ orgId: number; name: string; role: OrgRole }>>;

  createRepository(ownerId: number, name: string, visibility: Visibility): Promise<SourceRepository>;
  repository(ownerName: string, name: string): Promise<SourceRepository | null>;
  repositoryById(id: number): Promise<SourceRepository | null>;
  listRepositories(ownerId: number): Promise<SourceRepository[]>;
  setRepositoryVisibility(id: number, visibility: Visibility): Promise<void>;
  deleteRepository(id: number): Promise<boolean>;
  setCollaborator(repositoryId: number, userId: number, role: RepositoryRole | null): Promise<void>;
  collaboratorRole(repositoryId: number, userId: number): Promise<RepositoryRole | null>;
  collaborators(repositoryId: number): Promise<Array<{ userId: number; name: string; role: RepositoryRole }>>;

  package(name: string): Promise<PackageRecord | null>;
  /** Creates the package unless it exists; returns what is stored either way. */
  ensurePackage(record: PackageRecord): Promise<PackageRecord>;
  linkPackage(name: string, repositoryId: number | null): Promise<void>;
  setPackageVisibility(name: string, visibility: Visibility): Promise<void>;
  listPackages(filter: { ownerId?: number; repositoryId?: number }): Promise<PackageRecord[]>;

  createAccessToken(token: Omit<AccessTokenRecord, 'id' | 'lastUsedAt' | 'revokedAt'> & { secretHash: string }): Promise<AccessTokenRecord>;
  accessTokenBySecret(secretHash: string): Promise<AccessTokenRecord | null>;
  accessToken(id: number): Promise<AccessTokenRecord | null>;
  listAccessTokens(userId: number): Promise<AccessTokenRecord[]>;
  touchAccessToken(id: number, at: number): Promise<void>;
  revokeAccessToken(id: number, at: number): Promise<boolean>;

  createRefreshToken(userId: number, accessTokenId: number | null, secretHash: string, expiresAt: number): Promise<RefreshTokenRecord>;
  refreshTokenBySecret(secretHash: string): Promise<RefreshTokenRecord | null>;
  refreshToken(id: number): Promise<RefreshTokenRecord | null>;

  createSession(secretHash: string, userId: number, expiresAt: number): Promise<void>;
  sessionUser(secretHash: string, now: number): Promise<number | null>;
  deleteSession(secretHash: string): Promise<void>;

  signingKeys(): Promise<SigningKeyRecord[]>;
  addSigningKey(key: SigningKeyRecord): Promise<void>;
  retireSigningKey(kid: string, at: number): Promise<void>;
}
