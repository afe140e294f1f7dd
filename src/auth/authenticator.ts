import { createHash } from 'node:crypto';
import { Unauthenticated } from './errors';
import type { AccessTokenRecord } from './stores/access-token-store';
import type { Account } from './stores/account-store';
import type { IdentityStores } from './stores/identity-stores';
import { LoginThrottle } from './login-throttle';
import { ANONYMOUS, actionsFromScopes, type Credential, grantsFromScopes, type PackageAction, type Principal } from './principal';
import { hashSecret, verifyPassword } from './secrets';
import { NO_AUDIT_LOG, type AuditLog } from '../audit/audit-log';

/**
 * Turns credentials into principals: passwords, personal access tokens, CI
 * tokens, refresh tokens and web sessions. Also re-checks a credential
 * named in an already-issued JWT, so revoking a token or deleting a user
 * takes effect at once rather than when the JWT expires.
 */
export class Authenticator {
  private readonly throttle: LoginThrottle;
  private readonly addressThrottle: LoginThrottle;
  private readonly recentLogins = new Map<
    string,
    { userId: number; credential: Credential; passwordHash: string | null; expires: number }
  >();

  constructor(
    private readonly identities: Pick<IdentityStores, 'accounts' | 'repositories' | 'tokens'>,
    throttle?: LoginThrottle,
    addressThrottle?: LoginThrottle,
    private readonly audit: AuditLog = NO_AUDIT_LOG,
  ) {
    this.throttle = throttle ?? new LoginThrottle();
    // One address may carry many users (NAT, a CI fleet, a reverse proxy): a few typos there
    // must not lock everyone out, so it gets a higher bar than one user name.
    this.addressThrottle = addressThrottle ?? new LoginThrottle(undefined, 100);
  }

  /** username + password, where the password may also be a PAT or CI token. */
  async login(username: string, secret: string, clientAddress: string): Promise<Principal & { kind: 'user' | 'ci' }> {
    const userKeys = [`user:${username.toLowerCase()}`];
    const addressKeys = [`addr:${clientAddress}`];
    await this.throttle.check(userKeys);
    await this.addressThrottle.check(addressKeys);
    // A client logging in on every request pays scrypt once a minute, not each time; the
    // cheap re-check still makes a revoked token or deleted user fail at once.
    const cacheKey = createHash('sha256').update(`${username}\0${secret}`).digest('hex');
    const cached = this.recentLogins.get(cacheKey);
    if (cached && cached.expires > Date.now()) {
      const fresh = await this.resolve(cached.credential, cached.userId);
      // A changed password must stop the old one at once, not when the cache entry expires.
      const samePassword =
        cached.credential.type !== 'password' ||
        (await this.identities.accounts.accountById(cached.userId))?.passwordHash === cached.passwordHash;
      if (fresh && fresh.kind !== 'anonymous' && samePassword) return fresh;
      this.recentLogins.delete(cacheKey);
    }
    const principal = await this.verify(username, secret);
    if (principal) {
      if (this.recentLogins.size >= 10_000) this.recentLogins.clear();
      const credential: Credential = principal.kind === 'user' ? principal.credential : { type: 'ci', tokenId: principal.tokenId };
      const passwordHash =
        credential.type === 'password' ? ((await this.identities.accounts.accountById(principal.userId))?.passwordHash ?? null) : null;
      this.recentLogins.set(cacheKey, { userId: principal.userId, credential, passwordHash, expires: Date.now() + 60_000 });
    }
    if (!principal) {
      await this.throttle.fail(userKeys);
      await this.addressThrottle.fail(addressKeys);
      // The name as tried lands in that user's log when it names one; a token's secret is never recorded.
      const tokenLogin = username.startsWith('bearer:');
      await this.audit.record({
        action: 'signin.failed',
        actor: ANONYMOUS,
        target: tokenLogin ? {} : { owner: username },
        details: { username: tokenLogin ? null : username, credential: secret.startsWith('berth_') ? 'token' : 'password' },
      });
      throw new Unauthenticated('invalid username, password or token');
    }
    await this.throttle.succeed(userKeys);
    return principal;
  }

  private async verify(username: string, secret: string): Promise<(Principal & { kind: 'user' | 'ci' }) | null> {
    if (secret.startsWith('berth_pat_') || secret.startsWith('berth_ci_')) {
      const token = await this.identities.tokens.accessTokenBySecret(hashSecret(secret));
      if (!token || !usable(token)) return null;
      await this.identities.tokens.touchAccessToken(token.id, Date.now());
      return this.fromAccessToken(token);
    }
    const user = await this.identities.accounts.accountByName(username);
    if (!user || user.kind !== 'user' || !user.passwordHash) return null;
    if (!(await verifyPassword(secret, user.passwordHash))) return null;
    return userPrincipal(user, { type: 'password' }, null);
  }

  /** A refresh token (docker login's identity token). */
  async refresh(secret: string): Promise<Principal & { kind: 'user' }> {
    const record = await this.identities.tokens.refreshTokenBySecret(hashSecret(secret));
    if (!record || record.revokedAt !== null || record.expiresAt <= Date.now()) {
      throw new Unauthenticated('invalid or expired refresh token');
    }
    const principal = await this.resolve({ type: 'refresh', refreshId: record.id, tokenId: record.accessTokenId }, record.userId);
    if (!principal || principal.kind !== 'user') throw new Unauthenticated('the refresh token no longer grants access');
    return principal;
  }

  /** The principal behind a credential, or null when it was revoked, expired or its user deleted. */
  async resolve(credential: Credential, userId: number): Promise<Principal | null> {
    const user = await this.identities.accounts.accountById(userId);
    if (!user || user.kind !== 'user') return null;
    switch (credential.type) {
      case 'password':
      case 'session':
        return userPrincipal(user, credential, null);
      case 'pat':
      case 'ci': {
        const token = await this.identities.tokens.accessToken(credential.tokenId);
        if (!token || !usable(token) || token.userId !== userId) return null;
        return this.fromAccessToken(token, user);
      }
      case 'refresh': {
        const record = await this.identities.tokens.refreshToken(credential.refreshId);
        if (!record || record.revokedAt !== null || record.expiresAt <= Date.now() || record.userId !== userId) return null;
        if (credential.tokenId === null) return userPrincipal(user, credential, null);
        const token = await this.identities.tokens.accessToken(credential.tokenId);
        if (!token || !usable(token)) return null;
        return tokenPrincipal(user, credential, token.scopes);
      }
    }
  }

  private async fromAccessToken(token: AccessTokenRecord, owner?: Account): Promise<(Principal & { kind: 'user' | 'ci' }) | null> {
    const user = owner ?? (await this.identities.accounts.accountById(token.userId));
    if (!user || user.kind !== 'user') return null;
    if (token.kind === 'pat') return tokenPrincipal(user, { type: 'pat', tokenId: token.id }, token.scopes);
    if (token.repositoryId === null) return null;
    const repository = await this.identities.repositories.repositoryById(token.repositoryId);
    if (!repository) return null;
    return {
      kind: 'ci',
      tokenId: token.id,
      userId: user.id,
      name: `ci:${repository.ownerName}/${repository.name}`,
      repositoryId: repository.id,
      repositoryOwnerId: repository.ownerId,
    };
  }
}

function usable(token: AccessTokenRecord): boolean {
  return token.revokedAt === null && (token.expiresAt === null || token.expiresAt > Date.now());
}

function userPrincipal(user: Account, credential: Credential, allowed: ReadonlySet<PackageAction> | null): Principal & { kind: 'user' } {
  return { kind: 'user', userId: user.id, name: user.name, isAdmin: user.isAdmin, credential, allowed };
}

/** A user acting through a token: its scopes' package actions and management grants. */
function tokenPrincipal(user: Account, credential: Credential, scopes: readonly string[]): Principal & { kind: 'user' } {
  return { ...userPrincipal(user, credential, actionsFromScopes(scopes)), grants: grantsFromScopes(scopes) };
}
