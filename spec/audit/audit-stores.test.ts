import { AUDIT_MIGRATIONS } from '../../src/audit/sql/audit-migrations';
import { SqlAuditStore } from '../../src/audit/sql/sql-audit-store';
import type { AuditStore } from '../../src/audit/audit-store';
import { migrate } from '../../src/persistence/migration-runner';
import { auditStoreContract } from '../contracts/audit-store.contract';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../persistence/support/test-databases';

/** The audit store contract on SQLite and PostgreSQL. */
for (const dialect of DIALECTS) {
  const opened = new WeakMap<AuditStore, TestDatabase>();
  auditStoreContract(`sql on ${dialect}`, {
    async create() {
      const t = await createTestDatabase(dialect);
      await migrate(t.db, [AUDIT_MIGRATIONS]);
      const store = new SqlAuditStore(t.db);
      opened.set(store, t);
      return store;
    },
    destroy: async (store) => opened.get(store)?.dispose(),
  });
}
