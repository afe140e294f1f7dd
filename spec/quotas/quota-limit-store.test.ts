import { migrate } from '../../src/persistence/migration-runner';
import type { QuotaLimitStore } from '../../src/quotas/quota-limits';
import { QUOTA_MIGRATIONS } from '../../src/quotas/sql/quota-migrations';
import { SqlQuotaLimitStore } from '../../src/quotas/sql/sql-quota-limit-store';
import { quotaLimitStoreContract } from '../contracts/quota-limit-store.contract';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../persistence/support/test-databases';

for (const dialect of DIALECTS) {
  const opened = new WeakMap<QuotaLimitStore, TestDatabase>();
  quotaLimitStoreContract(`sql on ${dialect}`, {
    async create() {
      const t = await createTestDatabase(dialect);
      await migrate(t.db, [QUOTA_MIGRATIONS]);
      const store = new SqlQuotaLimitStore(t.db);
      opened.set(store, t);
      return store;
    },
    async destroy(store) {
      await opened.get(store)?.dispose();
    },
  });
}
