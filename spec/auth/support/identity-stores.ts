import { IDENTITY_MIGRATIONS } from '../../../src/auth/sql/identity-migrations';
import { sqlIdentityStores } from '../../../src/auth/sql/sql-identity-stores';
import type { IdentityStores } from '../../../src/auth/stores/identity-stores';
import type { Config } from '../../../src/config';
import type { Database } from '../../../src/persistence/database';
import { migrate } from '../../../src/persistence/migration-runner';
import { SqliteDatabase } from '../../../src/persistence/sqlite-database';
import { openDatabase } from '../../../src/persistence/sqlite-file';
import { createTestDatabase } from '../../persistence/support/test-databases';
import { openStoreDatabase, specBackend } from '../../support/test-backend';

export interface OpenedIdentityStores {
  identities: IdentityStores;
  /** The database itself, for a spec that inspects or ages rows directly. */
  db: Database;
  close: () => Promise<void>;
}

/**
 * The identity stores on a fresh, migrated database of the jest project's
 * backend (spec/support/test-backend.ts): an in-memory SQLite file, or a
 * PostgreSQL schema of their own, dropped by `close`.
 */
export async function openIdentityStores(): Promise<OpenedIdentityStores> {
  const { db, close } = await freshDatabase();
  await migrate(db, IDENTITY_MIGRATIONS);
  return { identities: sqlIdentityStores(db), db, close };
}

async function freshDatabase(): Promise<{ db: Database; close: () => Promise<void> }> {
  if (specBackend() === 'embedded') {
    // In memory, opened as the registry opens its file (foreign keys on).
    const db = new SqliteDatabase(openDatabase(':memory:'));
    return { db, close: () => db.close() };
  }
  const t = await createTestDatabase('postgres');
  return { db: t.db, close: () => t.dispose() };
}

/** The identity stores of the registry `config` configures, opened beside it as the CLI opens them. */
export async function openRegistryIdentityStores(config: Config): Promise<OpenedIdentityStores> {
  const db = await openStoreDatabase(config);
  await migrate(db, IDENTITY_MIGRATIONS);
  return { identities: sqlIdentityStores(db), db, close: () => db.close() };
}
