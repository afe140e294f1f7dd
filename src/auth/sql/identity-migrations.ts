import type { StoreMigrations } from '../../persistence/migration';
import { ACCESS_TOKEN_MIGRATIONS } from './access-token-migrations';
import { ACCOUNT_MIGRATIONS } from './account-migrations';
import { PACKAGE_MIGRATIONS } from './package-migrations';
import { SIGNING_KEY_MIGRATIONS } from './signing-key-migrations';
import { SOURCE_REPOSITORY_MIGRATIONS } from './source-repository-migrations';
import { WEB_SESSION_MIGRATIONS } from './web-session-migrations';

/**
 * The identity stores' migrations, in the order `migrate` must run them.
 *
 * Foreign keys cross store ownership (tokens, sessions, repositories and
 * packages reference accounts; tokens and packages reference source
 * repositories) and stay declared, each by the migration of the store that
 * owns the referencing table, so that store's migrations run after the
 * referenced one's: this order. Why keep them rather than delete dependents
 * in the services: deleting an account or a repository then removes (or
 * unlinks) everything that hung on it atomically in the database, on both
 * dialects, whichever process deletes; a service deleting dependents store
 * by store would need one transaction across stores that each own their
 * connection use, and a crash between two of its steps must not leave a
 * token of a deleted user that still authenticates. And a SQLite file that
 * adopts these tables from legacy version 2 has the keys already: dropping
 * them there means rebuilding every table. The cost: a store's tables
 * cannot move to another database than accounts'; none is meant to.
 */
export const IDENTITY_MIGRATIONS: readonly StoreMigrations[] = [
  ACCOUNT_MIGRATIONS,
  SOURCE_REPOSITORY_MIGRATIONS,
  PACKAGE_MIGRATIONS,
  ACCESS_TOKEN_MIGRATIONS,
  WEB_SESSION_MIGRATIONS,
  SIGNING_KEY_MIGRATIONS,
];
