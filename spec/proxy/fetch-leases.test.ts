import { migrate } from '../../src/persistence/migration-runner';
import type { FetchLeases } from '../../src/proxy/fetch-leases';
import { PROXY_MIGRATIONS } from '../../src/proxy/sql/proxy-migrations';
import { SqlFetchLeases } from '../../src/proxy/sql/sql-fetch-leases';
import { fetchLeasesContract } from '../contracts/fetch-leases.contract';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../persistence/support/test-databases';

for (const dialect of DIALECTS) {
  const opened = new WeakMap<FetchLeases, TestDatabase>();
  fetchLeasesContract(`sql on ${dialect}`, {
    async create() {
      const t = await createTestDatabase(dialect);
      await migrate(t.db, [PROXY_MIGRATIONS]);
      const store = new SqlFetchLeases(t.db);
      opened.set(store, t);
      return store;
    },
    destroy: async (store) => opened.get(store)?.dispose(),
  });
}
