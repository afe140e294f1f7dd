import type { Authenticator } from './authenticator';
import type { Authorizer } from './authorizer';
import type { IdentityStores } from './stores/identity-stores';
import { AccessTokenService } from './management/access-token-service';
import { AccountService } from './management/account-service';
import { PackageService } from './management/package-service';
import { RepositoryService } from './management/repository-service';
import { WebSessions } from './management/web-sessions';
import type { AuditLog } from '../audit/audit-log';

export { SYSTEM, type Actor } from './management/actor';

/** A CI token lives an hour unless configured or asked otherwise. */
export const DEFAULT_CI_TOKEN_TTL_MINUTES = 60;

export interface IdentityServiceOptions {
  /** A CI token's lifetime when none is asked for (config `auth.ciTokenTtlMinutes`). */
  ciTokenTtlMinutes: number;
  /** How long a browser session lasts. */
  sessionTtlMs?: number;
  /** Where changes are recorded; none when not given. */
  audit?: AuditLog;
}

/**
 * The management layer over the identity model: each operation takes the
 * acting principal (or SYSTEM, the CLI) and checks it may. The HTTP API
 * and the CLI both call these, so the rules live in one place.
 */
export class IdentityService {
  readonly accounts: AccountService;
  readonly repositories: RepositoryService;
  readonly packages: PackageService;
  readonly tokens: AccessTokenService;
  readonly sessions: WebSessions;

  constructor(identities: IdentityStores, authorizer: Authorizer, authenticator: Authenticator, options: IdentityServiceOptions) {
    this.accounts = new AccountService(identities, options.audit);
    this.repositories = new RepositoryService(identities, authorizer, options.audit);
    this.packages = new PackageService(identities, authorizer, this.repositories, options.audit);
    this.tokens = new AccessTokenService(
      identities,
      authorizer,
      this.repositories,
      { ciTokenTtlMinutes: options.ciTokenTtlMinutes },
      options.audit,
    );
    this.sessions = new WebSessions(identities.webSessions, authenticator, options.sessionTtlMs);
  }
}
