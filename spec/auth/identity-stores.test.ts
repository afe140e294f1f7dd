import { IDENTITY_MIGRATIONS } from '../../src/auth/sql/identity-migrations';
import { sqlIdentityStores } from '../../src/auth/sql/sql-identity-stores';
import type { IdentityStores } from '../../src/auth/stores/identity-stores';
import { migrate } from '../../src/persistence/migration-runner';
import { SqliteDatabase } from '../../src/persistence/sqlite-database';
import { accessTokenStoreContract } from '../contracts/access-token-store.contract';
import { accountStoreContract } from '../contracts/account-store.contract';
import type { IdentityStoresHarness } from '../contracts/identity-store-harness';
import { packageStoreContract } from '../contracts/package-store.contract';
import { signingKeyStoreContract } from '../contracts/signing-key-store.contract';
import { sourceRepositoryStoreContract } from '../contracts/source-repository-store.contract';
import { webSessionStoreContract } from '../contracts/web-session-store.contract';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../persistence/support/test-databases';

/** Every identity store contract, on SQLite and on PostgreSQL. */
for (const dialect of DIALECTS) {
  const opened = new WeakMap<IdentityStores, TestDatabase>();
  const harness: IdentityStoresHarness = {
    async create() {
      const t = await createTestDatabase(dialect);
      // As Berth opens its file (src/metadata/sqlite/database.ts): SQLite enforces foreign keys only when asked.
      if (t.db instanceof SqliteDatabase) t.db.connection.pragma('foreign_keys = ON');
      await migrate(t.db, IDENTITY_MIGRATIONS);
      const stores = sqlIdentityStores(t.db);
      opened.set(stores, t);
      return stores;
    },
    destroy: async (stores) => opened.get(stores)?.dispose(),
  };
  accountStoreContract(`sql on ${dialect}`, harness);
  sourceRepositoryStoreContract(`sql on ${dialect}`, harness);
  packageStoreContract(`sql on ${dialect}`, harness);
  accessTokenStoreContract(`sql on ${dialect}`, harness);
  webSessionStoreContract(`sql on ${dialect}`, harness);
  signingKeyStoreContract(`sql on ${dialect}`, harness);
}
