import type BetterSqlite3 from 'better-sqlite3';
import { IDENTITY_MIGRATIONS } from '../../../src/auth/sql/identity-migrations';
import { sqlIdentityStores } from '../../../src/auth/sql/sql-identity-stores';
import type { IdentityStores } from '../../../src/auth/stores/identity-stores';
import { openDatabase } from '../../../src/metadata/sqlite/database';
import { migrate } from '../../../src/persistence/migration-runner';
import { SqliteDatabase } from '../../../src/persistence/sqlite-database';

export interface OpenedIdentityStores {
  identities: IdentityStores;
  /** The raw connection, for a spec that inspects or ages rows directly. */
  connection: BetterSqlite3.Database;
  close(): void;
}

/**
 * The identity stores on a SQLite file (in memory by default), opened and
 * migrated as the registry opens them (a second handle on a registry's file
 * finds it migrated already).
 */
export async function openIdentityStores(file = ':memory:'): Promise<OpenedIdentityStores> {
  const connection = openDatabase(file);
  const database = new SqliteDatabase(connection);
  await migrate(database, IDENTITY_MIGRATIONS);
  return { identities: sqlIdentityStores(database), connection, close: () => connection.close() };
}
