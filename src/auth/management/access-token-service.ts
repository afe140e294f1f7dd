import type { Authorizer } from '../authorizer';
import type { AccessTokenRecord } from '../stores/access-token-store';
import type { Account } from '../stores/account-store';
import type { IdentityStores } from '../stores/identity-stores';
import { isTokenScope, TOKEN_SCOPES, type TokenScope } from '../principal';
import { hashSecret, newSecret } from '../secrets';
import { type Actor, isSiteAdmin, requireManager } from './actor';
import { UserNotFound, AccessTokenNotFound, InvalidRequest } from './errors';
import { AccessDenied } from '../errors';
import { atLeast, type RepositoryService } from './repository-service';
import { NO_AUDIT_LOG, type AuditLog, type AuditTarget } from '../../audit/audit-log';

export interface AccessTokenView {
  id: number;
  kind: 'pat' | 'ci';
  name: string;
  scopes: string[];
  /** `owner/name` for a CI token. */
  repository: string | null;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  status: 'active' | 'expired' | 'revoked';
}

/** A new token: the secret, shown this once, and what is stored about it. */
export interface MintedToken {
  token: string;
  record: AccessTokenView;
}

export interface AccessTokenServiceOptions {
  /** A CI token's lifetime when none is asked for. */
  ciTokenTtlMinutes: number;
}

/** The bounds on what may be asked for. */
export const MAX_PAT_DAYS = 3650;
export const DEFAULT_PAT_DAYS = 90;
export const MAX_CI_TOKEN_MINUTES = 1440;

/**
 * Personal access tokens (a user's own, narrowed to package scopes) and CI
 * tokens (short-lived, for one source repository, minted by its admins).
 * Only a hash of each secret is stored; the secret is returned once.
 */
export class AccessTokenService {
  constructor(
    private readonly identities: Pick<IdentityStores, 'accounts' | 'repositories' | 'tokens'>,
    private readonly authorizer: Authorizer,
    private readonly repositories: RepositoryService,
    private readonly options: AccessTokenServiceOptions,
    private readonly audit: AuditLog = NO_AUDIT_LOG,
  ) {}

  /** A user mints their own tokens; the CLI mints for anyone. Administrators do not mint for others. */
  async createPersonal(
    actor: Actor,
    userName: string,
    input: { name?: string; scopes: string[]; expiresInDays?: number },
  ): Promise<MintedToken> {
    const manager = requireManager(actor, 'create access tokens');
    const user = await this.user(userName);
    if (manager.kind === 'user' && manager.userId !== user.id) throw new AccessDenied('access tokens are created by their own user');
    const scopes = parseScopes(input.scopes);
    const days = input.expiresInDays ?? DEFAULT_PAT_DAYS;
    if (!Number.isInteger(days) || days < 1 || days > MAX_PAT_DAYS)
      throw new InvalidRequest(`a token expires after 1 to ${MAX_PAT_DAYS} days`);
    const name = (input.name ?? 'token').trim();
    if (name.length < 1 || name.length > 100) throw new InvalidRequest('a token name has 1 to 100 characters');
    const now = Date.now();
    return this.mint(actor, { owner: user.name }, 'berth_pat', {
      kind: 'pat',
      userId: user.id,
      repositoryId: null,
      name,
      scopes,
      createdAt: now,
      expiresAt: now + days * 86_400_000,
    });
  }

  /** A user's tokens, never their secrets: the user's own, or anyone's for administrators. */
  async list(actor: Actor, userName: string): Promise<AccessTokenView[]> {
    const user = await this.user(userName);
    if (!isSiteAdmin(actor) && !(actor.kind === 'user' && actor.userId === user.id))
      throw new AccessDenied("only administrators see other users' tokens");
    return Promise.all((await this.identities.tokens.listAccessTokens(user.id)).map((t) => this.view(t)));
  }

  /** Revokes a token of one's own (administrators: anyone's). Revoking twice is fine. */
  async revoke(actor: Actor, id: number): Promise<AccessTokenView> {
    const manager = requireManager(actor, 'revoke tokens');
    const token = await this.identities.tokens.accessToken(id);
    const mine = token !== null && manager.kind === 'user' && token.userId === manager.userId;
    if (!token || (!mine && !isSiteAdmin(manager))) throw new AccessTokenNotFound(`no token ${id}`);
    const at = Date.now();
    if (await this.identities.tokens.revokeAccessToken(id, at)) {
      const owner = await this.identities.accounts.accountById(token.userId);
      await this.audit.record({
        action: 'token.revoke',
        actor,
        target: { owner: owner?.name },
        details: { tokenId: token.id, kind: token.kind, name: token.name },
      });
    }
    return this.view({ ...token, revokedAt: token.revokedAt ?? at });
  }

  /**
   * A CI token for one source repository, minted by one of its admins (the
   * CLI names one with `by`, else the repository's owner or an owner of its
   * organisation). It reads and writes only that repository's packages.
   */
  async createCi(
    actor: Actor,
    repositoryPath: { owner: string; name: string },
    input: { ttlMinutes?: number; by?: string } = {},
  ): Promise<MintedToken> {
    const manager = requireManager(actor, 'create CI tokens');
    const { repository } = await this.repositories.locate(actor, repositoryPath.owner, repositoryPath.name, 'admin');
    const minutes = input.ttlMinutes ?? this.options.ciTokenTtlMinutes;
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_CI_TOKEN_MINUTES) {
      throw new InvalidRequest(`a CI token lives 1 to ${MAX_CI_TOKEN_MINUTES} minutes`);
    }
    let minter: Account;
    if (manager.kind === 'user') {
      if (input.by !== undefined && input.by !== manager.name) throw new AccessDenied('a CI token is minted by the signed-in user');
      minter = await this.user(manager.name);
    } else if (input.by !== undefined) {
      minter = await this.user(input.by);
      if (!atLeast(await this.authorizer.repositoryRole(minter.id, repository), 'admin'))
        throw new AccessDenied(`${minter.name} is not an admin of ${repository.ownerName}/${repository.name}`);
    } else {
      minter = await this.defaultMinter(repository.ownerId, `${repository.ownerName}/${repository.name}`);
    }
    const now = Date.now();
    const target = { owner: repository.ownerName, repository: `${repository.ownerName}/${repository.name}` };
    return this.mint(actor, target, 'berth_ci', {
      kind: 'ci',
      userId: minter.id,
      repositoryId: repository.id,
      name: `ci:${repository.ownerName}/${repository.name}`,
      scopes: ['read:packages', 'write:packages'],
      createdAt: now,
      expiresAt: now + minutes * 60_000,
    });
  }

  private async defaultMinter(ownerId: number, repositoryName: string): Promise<Account> {
    const owner = await this.identities.accounts.accountById(ownerId);
    if (owner?.kind === 'user') return owner;
    const owners = (await this.identities.accounts.orgMembers(ownerId)).filter((m) => m.role === 'owner');
    const first = owners[0] ? await this.identities.accounts.accountById(owners[0].userId) : null;
    if (!first) throw new InvalidRequest(`${repositoryName} has no owner to mint for; name an admin with --by`);
    return first;
  }

  private async mint(
    actor: Actor,
    target: AuditTarget,
    prefix: 'berth_pat' | 'berth_ci',
    record: Omit<AccessTokenRecord, 'id' | 'lastUsedAt' | 'revokedAt'>,
  ): Promise<MintedToken> {
    const token = newSecret(prefix);
    const stored = await this.identities.tokens.createAccessToken({ ...record, secretHash: hashSecret(token) });
    await this.audit.record({
      action: 'token.create',
      actor,
      target,
      details: { tokenId: stored.id, kind: stored.kind, name: stored.name, scopes: stored.scopes, expiresAt: stored.expiresAt },
    });
    return { token, record: await this.view(stored) };
  }

  private async user(name: string): Promise<Account> {
    const account = await this.identities.accounts.accountByName(name);
    if (!account || account.kind !== 'user') throw new UserNotFound(`no user "${name}"`);
    return account;
  }

  private async view(t: AccessTokenRecord): Promise<AccessTokenView> {
    const repository = t.repositoryId === null ? null : await this.identities.repositories.repositoryById(t.repositoryId);
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    const status = t.revokedAt !== null ? 'revoked' : t.expiresAt !== null && t.expiresAt <= Date.now() ? 'expired' : 'active';
    return {
      id: t.id,
      kind: t.kind,
      name: t.name,
      scopes: t.scopes,
      repository: repository ? `${repository.ownerName}/${repository.name}` : null,
      createdAt: new Date(t.createdAt).toISOString(),
      expiresAt: iso(t.expiresAt),
      lastUsedAt: iso(t.lastUsedAt),
      revokedAt: iso(t.revokedAt),
      status,
    };
  }
}

/** PAT scopes: at least one, each known; duplicates dropped. */
export function parseScopes(scopes: string[]): TokenScope[] {
  const cleaned = scopes.map((s) => s.trim()).filter(Boolean);
  const known = Object.keys(TOKEN_SCOPES).join(', ');
  if (cleaned.length === 0) throw new InvalidRequest(`a token needs at least one scope: ${known}`);
  const unknown = cleaned.filter((s) => !isTokenScope(s));
  if (unknown.length > 0) throw new InvalidRequest(`unknown scope ${unknown.join(', ')}; known: ${known}`);
  return [...new Set(cleaned as TokenScope[])];
}
