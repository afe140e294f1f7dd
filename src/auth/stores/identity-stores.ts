import type { AccessTokenStore } from './access-token-store';
import type { AccountStore } from './account-store';
import type { PackageStore } from './package-store';
import type { SigningKeyStore } from './signing-key-store';
import type { SourceRepositoryStore } from './source-repository-store';
import type { WebSessionStore } from './web-session-store';

/**
 * The identity stores together, for wiring only: each service takes the
 * ones it uses (a `Pick` of this), so what it can touch shows in its type.
 */
export interface IdentityStores {
  accounts: AccountStore;
  repositories: SourceRepositoryStore;
  packages: PackageStore;
  tokens: AccessTokenStore;
  signingKeys: SigningKeyStore;
  webSessions: WebSessionStore;
}
