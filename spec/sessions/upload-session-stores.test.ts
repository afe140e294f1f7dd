import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { openDatabase } from '../../src/metadata/sqlite/database';
import { MemoryUploadSessionStore } from '../../src/sessions/memory/memory-upload-session-store';
import { SqliteUploadSessionStore } from '../../src/sessions/sqlite/sqlite-upload-session-store';
import { RedisUploadSessionStore } from '../../src/sessions/redis/redis-upload-session-store';
import { requiredEnv } from '../support/scale-out';
import { uploadSessionStoreContract } from '../contracts/upload-session-store.contract';

uploadSessionStoreContract('memory', {
  create: async () => new MemoryUploadSessionStore(),
  destroy: async (store) => store.close(),
});

const dbs = new WeakMap<object, ReturnType<typeof openDatabase>>();
uploadSessionStoreContract('sqlite', {
  async create() {
    const db = openDatabase(':memory:');
    const store = new SqliteUploadSessionStore(db);
    dbs.set(store, db);
    return store;
  },
  async destroy(store) {
    await store.close();
    dbs.get(store)?.close();
  },
});

const redisClients = new WeakMap<object, { redis: Redis; prefix: string }>();
uploadSessionStoreContract('redis', {
  async create() {
    const redis = new Redis(requiredEnv('REDIS_URL'), { maxRetriesPerRequest: 2 });
    // A key prefix of its own per store: a fresh, empty store on a shared server.
    const prefix = `berth-spec:${randomUUID()}:`;
    const store = new RedisUploadSessionStore(redis, { keyPrefix: prefix, sessionTtlMs: 60_000 });
    redisClients.set(store, { redis, prefix });
    return store;
  },
  async destroy(store) {
    await store.close();
    const entry = redisClients.get(store);
    if (!entry) return;
    const keys = await entry.redis.keys(`${entry.prefix}*`);
    if (keys.length > 0) await entry.redis.del(...keys);
    await entry.redis.quit();
  },
});
