import type { Database } from '../../persistence/database';
import type { IdentityStores } from '../stores/identity-stores';
import { SqlAccessTokenStore } from './sql-access-token-store';
import { SqlAccountStore } from './sql-account-store';
import { SqlPackageStore } from './sql-package-store';
import { SqlSigningKeyStore } from './sql-signing-key-store';
import { SqlSourceRepositoryStore } from './sql-source-repository-store';
import { SqlWebSessionStore } from './sql-web-session-store';

/** The identity stores on one database, migrated with IDENTITY_MIGRATIONS. */
export function sqlIdentityStores(db: Database): IdentityStores {
  const accounts = new SqlAccountStore(db);
  return {
    accounts,
    repositories: new SqlSourceRepositoryStore(db, accounts),
    packages: new SqlPackageStore(db),
    tokens: new SqlAccessTokenStore(db),
    signingKeys: new SqlSigningKeyStore(db),
    webSessions: new SqlWebSessionStore(db),
  };
}
