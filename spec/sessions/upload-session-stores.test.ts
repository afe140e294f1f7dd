import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { MemoryUploadSessionStore } from '../../src/sessions/memory/memory-upload-session-store';
import { SqlUploadSessionStore } from '../../src/sessions/sql/sql-upload-session-store';
import { UPLOAD_SESSION_MIGRATIONS } from '../../src/sessions/sql/upload-session-migrations';
import type { UploadSessionStore } from '../../src/sessions/upload-session-store';
import { migrate } from '../../src/persistence/migration-runner';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../persistence/support/test-databases';
import { RedisUploadSessionStore } from '../../src/sessions/redis/redis-upload-session-store';
import { requiredEnv } from '../support/scale-out';
import { uploadSessionStoreContract } from '../contracts/upload-session-store.contract';

uploadSessionStoreContract('memory', {
  create: async () => new MemoryUploadSessionStore(),
  destroy: async (store) => store.close(),
});

for (const dialect of DIALECTS) {
  const opened = new WeakMap<UploadSessionStore, TestDatabase>();
  uploadSessionStoreContract(`sql on ${dialect}`, {
    async create() {
      const t = await createTestDatabase(dialect);
      await migrate(t.db, [UPLOAD_SESSION_MIGRATIONS]);
      const store = new SqlUploadSessionStore(t.db);
      opened.set(store, t);
      return store;
    },
    async destroy(store) {
      await store.close();
      await opened.get(store)?.dispose();
    },
  });
}

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
