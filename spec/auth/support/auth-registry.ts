import request, { type Response } from 'supertest';
import type { Config } from '../../../src/config';
import type { AccessTokenRecord } from '../../../src/auth/stores/access-token-store';
import type { Account } from '../../../src/auth/stores/account-store';
import type { IdentityStores } from '../../../src/auth/stores/identity-stores';
import { hashPassword, hashSecret, newSecret } from '../../../src/auth/secrets';
import { createLogger } from '../../../src/log';
import { createRegistry, type Registry } from '../../../src/composition-root';
import type { Database } from '../../../src/persistence/database';
import type { UploadSessionStore } from '../../../src/sessions/upload-session-store';
import { prepareTestConfig } from '../../support/registry';
import { openSessionStoreOf } from '../../support/test-backend';
import { openRegistryIdentityStores } from './identity-stores';

type Agent = ReturnType<typeof request>;

export const ADMIN_PASSWORD = 'admin-password-for-specs';
export const SERVICE = 'berth-spec';
export const ISSUER = 'berth-spec-issuer';

/**
 * A registry with token auth on, plus a second connection to its database
 * (and its upload session store) through which the spec builds fixtures with
 * the stores directly (users, orgs, repositories, packages, tokens) — no
 * management API involved.
 */
export interface AuthTestRegistry {
  registry: Registry;
  http: Agent;
  dataDir: string;
  /** The registry's database, to inspect or age rows directly. */
  db: Database;
  identities: IdentityStores;
  /** The registry's upload sessions, wherever the configuration keeps them. */
  sessions: UploadSessionStore;
  config: Config;
  /** Closes the registry and reopens it on the same data (a restart). */
  restart(): Promise<void>;
  /** Forgets every failed-login window; they are kept in the database, across restarts. */
  forgetFailedLogins(): Promise<void>;
  close(): Promise<void>;
}

export async function startAuthRegistry(
  overrides: Partial<Config['auth']> = {},
  configOverrides: Partial<Omit<Config, 'auth'>> = {},
): Promise<AuthTestRegistry> {
  const setup = await prepareTestConfig(configOverrides, 'berth-auth-spec-');
  const base = setup.config;
  const config: Config = {
    ...base,
    auth: { ...base.auth, mode: 'token', service: SERVICE, issuer: ISSUER, adminPassword: ADMIN_PASSWORD, ...overrides },
  };
  const log = createLogger('silent');
  let registry = await createRegistry(config, log);
  const { db, identities, close: closeIdentities } = await openRegistryIdentityStores(config);
  const sessions = await openSessionStoreOf(config);
  const t: AuthTestRegistry = {
    registry,
    http: request(registry.app),
    dataDir: setup.dataDir,
    db,
    identities,
    sessions: sessions.store,
    config,
    async restart() {
      await registry.close();
      registry = await createRegistry(config, log);
      t.registry = registry;
      t.http = request(registry.app);
    },
    async forgetFailedLogins() {
      await db.run('DELETE FROM login_failures');
    },
    async close() {
      try {
        await sessions.close();
        await closeIdentities();
        await registry.close();
      } finally {
        await setup.dispose();
      }
    },
  };
  return t;
}

export async function addUser(identities: IdentityStores, name: string, password = `${name}-password`): Promise<Account> {
  return identities.accounts.createAccount(name, 'user', await hashPassword(password), false);
}

/** A personal access token: the secret (shown once) and its stored record. */
export async function addPat(
  identities: IdentityStores,
  user: Account,
  scopes: string[],
  expiresAt: number | null = null,
): Promise<{ secret: string; record: AccessTokenRecord }> {
  const secret = newSecret('berth_pat');
  const record = await identities.tokens.createAccessToken({
    kind: 'pat',
    userId: user.id,
    repositoryId: null,
    name: `pat ${scopes.join(' ')}`,
    scopes,
    createdAt: Date.now(),
    expiresAt,
    secretHash: hashSecret(secret),
  });
  return { secret, record };
}

/** A CI token for one source repository, minted by `user`, valid for an hour. */
export async function addCiToken(
  identities: IdentityStores,
  user: Account,
  repositoryId: number,
): Promise<{ secret: string; record: AccessTokenRecord }> {
  const secret = newSecret('berth_ci');
  const record = await identities.tokens.createAccessToken({
    kind: 'ci',
    userId: user.id,
    repositoryId,
    name: 'ci',
    scopes: ['read:packages', 'write:packages'],
    createdAt: Date.now(),
    expiresAt: Date.now() + 3600_000,
    secretHash: hashSecret(secret),
  });
  return { secret, record };
}

export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** GET /token with optional Basic credentials and scopes; returns the raw response. */
export function tokenRequest(http: Agent, credentials: { username: string; password: string } | null, scopes: string[]) {
  const query = new URLSearchParams([['service', SERVICE], ...scopes.map((s): [string, string] => ['scope', s])]);
  const req = http.get(`/token?${query.toString()}`);
  return credentials ? req.set('Authorization', basic(credentials.username, credentials.password)) : req;
}

/** GET /token and return the JWT; fails the test when the token endpoint refuses. */
export async function fetchToken(
  http: Agent,
  credentials: { username: string; password: string } | null,
  scopes: string[],
): Promise<string> {
  const res = await tokenRequest(http, credentials, scopes);
  if (res.status !== 200) throw new Error(`GET /token: ${res.status} ${res.text}`);
  return res.body.token as string;
}

/** Parses a `WWW-Authenticate: Bearer k="v",…` challenge into its parameters. */
export function parseChallenge(res: Response): Record<string, string> {
  const value = res.headers['www-authenticate'];
  if (!value) throw new Error(`response ${res.status} has no WWW-Authenticate header`);
  const m = /^Bearer (.*)$/.exec(value);
  if (!m?.[1]) throw new Error(`not a Bearer challenge: ${value}`);
  const params: Record<string, string> = {};
  for (const part of m[1].matchAll(/(\w+)="([^"]*)"/g)) params[part[1] as string] = part[2] as string;
  return params;
}

/** Decodes a JWT's header and payload without verifying it. */
export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown>; signature: string } {
  const [h, p, s] = token.split('.');
  if (h === undefined || p === undefined || s === undefined) throw new Error(`not a JWT: ${token}`);
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>,
    signature: s,
  };
}
