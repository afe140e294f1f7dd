import { LoginThrottle, MemoryLoginFailureStore } from '../../src/auth/login-throttle';
import { SqliteLoginFailureStore } from '../../src/auth/sqlite/sqlite-login-failure-store';
import { openDatabase } from '../../src/metadata/sqlite/database';
import { loginFailureStoreContract } from '../contracts/login-failure-store.contract';

loginFailureStoreContract('memory', { create: () => new MemoryLoginFailureStore(), destroy: () => undefined });

const dbs = new WeakMap<object, ReturnType<typeof openDatabase>>();
loginFailureStoreContract('sqlite', {
  create: () => {
    const db = openDatabase(':memory:');
    const store = new SqliteLoginFailureStore(db);
    dbs.set(store, db);
    return store;
  },
  destroy: (store) => dbs.get(store)?.close(),
});

describe('SqliteLoginFailureStore', () => {
  it('drops windows that have passed as new failures arrive, so the table holds only recent ones', () => {
    const db = openDatabase(':memory:');
    const store = new SqliteLoginFailureStore(db);
    for (let i = 0; i < 50; i++) store.recordFailure(`user:spray${i}`, 1_000, 60_000);
    store.recordFailure('user:late', 1_000 + 60_000, 60_000);
    expect(db.prepare('SELECT count(*) AS n FROM login_failures').get()).toEqual({ n: 1 });
    db.close();
  });

  it('throttles two processes on one database together (cluster workers, replicas)', () => {
    const db = openDatabase(':memory:');
    const workerA = new LoginThrottle(new SqliteLoginFailureStore(db), 4);
    const workerB = new LoginThrottle(new SqliteLoginFailureStore(db), 4);
    const keys = ['user:alice'];
    workerA.fail(keys, 1_000);
    workerB.fail(keys, 1_001);
    workerA.fail(keys, 1_002);
    expect(() => workerB.check(keys, 1_003)).not.toThrow();
    workerB.fail(keys, 1_003);
    expect(() => workerA.check(keys, 1_004)).toThrow(expect.objectContaining({ code: 'TOOMANYREQUESTS' }));
    workerA.succeed(keys);
    expect(() => workerB.check(keys, 1_005)).not.toThrow();
    db.close();
  });
});

describe('MemoryLoginFailureStore', () => {
  it('stays bounded, dropping the oldest key', () => {
    const store = new MemoryLoginFailureStore(3);
    for (const k of ['a', 'b', 'c', 'd']) store.recordFailure(k, 1_000, 60_000);
    expect(store.get('a')).toBeNull();
    expect(store.get('d')).toEqual({ failures: 1, startedAt: 1_000 });
  });
});
