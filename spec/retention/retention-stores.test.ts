import { migrate } from '../../src/persistence/migration-runner';
import { SqlNamedLease } from '../../src/persistence/sql-named-lease';
import type { RetentionPolicyStore } from '../../src/retention/retention-policy';
import { RETENTION_MIGRATIONS } from '../../src/retention/sql/retention-migrations';
import { SqlRetentionPolicyStore } from '../../src/retention/sql/sql-retention-policy-store';
import { retentionPolicyStoreContract } from '../contracts/retention-policy-store.contract';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../persistence/support/test-databases';

/** The retention store's contract and its run lease, on SQLite and on PostgreSQL. */
for (const dialect of DIALECTS) {
  const opened = new WeakMap<RetentionPolicyStore, TestDatabase>();
  retentionPolicyStoreContract(`sql on ${dialect}`, {
    async create() {
      const t = await createTestDatabase(dialect);
      await migrate(t.db, [RETENTION_MIGRATIONS]);
      const store = new SqlRetentionPolicyStore(t.db);
      opened.set(store, t);
      return store;
    },
    destroy: async (store) => opened.get(store)?.dispose(),
  });

  describe(`retention run lease on ${dialect}`, () => {
    let t: TestDatabase;
    beforeEach(async () => {
      t = await createTestDatabase(dialect);
      await migrate(t.db, [RETENTION_MIGRATIONS]);
    });
    afterEach(() => t.dispose());

    it('lets one holder at a time run until it releases or its lease expires', async () => {
      const one = new SqlNamedLease(t.db, 'retention_leases', 'run');
      const other = new SqlNamedLease(t.db, 'retention_leases', 'run');
      expect(await one.acquire('a', 1_000, 0)).toBe(true);
      expect(await other.acquire('b', 1_000, 500)).toBe(false);
      expect(await one.acquire('a', 1_000, 900)).toBe(true);
      expect(await other.acquire('b', 1_000, 1_500)).toBe(false);
      expect(await other.acquire('b', 1_000, 2_000)).toBe(true);
      await one.release('a');
      expect(await one.acquire('a', 1_000, 2_100)).toBe(false);
      await other.release('b');
      expect(await one.acquire('a', 1_000, 2_100)).toBe(true);
    });
  });
}
