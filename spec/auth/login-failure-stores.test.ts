import { LoginThrottle, MemoryLoginFailureStore, type LoginFailureStore } from '../../src/auth/login-throttle';
import { LOGIN_FAILURE_MIGRATIONS } from '../../src/auth/sql/login-failure-migrations';
import { SqlLoginFailureStore } from '../../src/auth/sql/sql-login-failure-store';
import { migrate } from '../../src/persistence/migration-runner';
import { loginFailureStoreContract } from '../contracts/login-failure-store.contract';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../persistence/support/test-databases';
import { LoginThrottled } from '../../src/auth/errors';

loginFailureStoreContract('memory', { create: async () => new MemoryLoginFailureStore(), destroy: async () => undefined });

for (const dialect of DIALECTS) {
  const opened = new WeakMap<LoginFailureStore, TestDatabase>();
  loginFailureStoreContract(`sql on ${dialect}`, {
    async create() {
      const t = await createTestDatabase(dialect);
      await migrate(t.db, [LOGIN_FAILURE_MIGRATIONS]);
      const store = new SqlLoginFailureStore(t.db);
      opened.set(store, t);
      return store;
    },
    destroy: async (store) => opened.get(store)?.dispose(),
  });

  describe(`SqlLoginFailureStore on ${dialect}`, () => {
    let t: TestDatabase;
    beforeEach(async () => {
      t = await createTestDatabase(dialect);
      await migrate(t.db, [LOGIN_FAILURE_MIGRATIONS]);
    });
    afterEach(() => t.dispose());

    it('drops windows that have passed as new failures arrive, so the table holds only recent ones', async () => {
      const store = new SqlLoginFailureStore(t.db);
      for (let i = 0; i < 50; i++) await store.recordFailure(`user:spray${i}`, 1_000, 60_000);
      await store.recordFailure('user:late', 1_000 + 60_000, 60_000);
      expect(await t.db.get('SELECT count(*) AS n FROM login_failures')).toEqual({ n: 1 });
    });

    it('throttles two processes on one database together (cluster workers, replicas)', async () => {
      const workerA = new LoginThrottle(new SqlLoginFailureStore(t.db), 4);
      const workerB = new LoginThrottle(new SqlLoginFailureStore(t.db), 4);
      const keys = ['user:alice'];
      await workerA.fail(keys, 1_000);
      await workerB.fail(keys, 1_001);
      await workerA.fail(keys, 1_002);
      await expect(workerB.check(keys, 1_003)).resolves.toBeUndefined();
      await workerB.fail(keys, 1_003);
      await expect(workerA.check(keys, 1_004)).rejects.toBeInstanceOf(LoginThrottled);
      await workerA.succeed(keys);
      await expect(workerB.check(keys, 1_005)).resolves.toBeUndefined();
    });

    it('counts every one of many concurrent failures on one key', async () => {
      const store = new SqlLoginFailureStore(t.db);
      await Promise.all(Array.from({ length: 20 }, () => store.recordFailure('user:alice', 1_000, 60_000)));
      expect(await store.get('user:alice')).toEqual({ failures: 20, startedAt: 1_000 });
    });
  });
}

describe('MemoryLoginFailureStore', () => {
  it('stays bounded, dropping the oldest key', async () => {
    const store = new MemoryLoginFailureStore(3);
    for (const k of ['a', 'b', 'c', 'd']) await store.recordFailure(k, 1_000, 60_000);
    expect(await store.get('a')).toBeNull();
    expect(await store.get('d')).toEqual({ failures: 1, startedAt: 1_000 });
  });
});
