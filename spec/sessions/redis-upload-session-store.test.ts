import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisUploadSessionStore } from '../../src/sessions/redis/redis-upload-session-store';
import type { UploadSession } from '../../src/sessions/upload-session-store';
import { requiredEnv } from '../support/scale-out';

/** What only Redis does: key TTLs. The shared behaviour is in the contract (upload-session-stores.test.ts). */
describe('RedisUploadSessionStore expiry', () => {
  let redis: Redis;
  let prefix: string;
  const store = (sessionTtlMs: number) => new RedisUploadSessionStore(redis, { keyPrefix: prefix, sessionTtlMs });
  const session = (): UploadSession => {
    const now = Date.now();
    return { id: randomUUID(), repository: 'team/app', offset: 0, startedAt: now, updatedAt: now };
  };

  beforeEach(() => {
    redis = new Redis(requiredEnv('REDIS_URL'), { maxRetriesPerRequest: 2 });
    prefix = `berth-spec:${randomUUID()}:`;
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('gives each session the configured TTL and refreshes it on activity', async () => {
    const sessions = store(60_000);
    const s = session();
    await sessions.create(s);
    const key = `${prefix}upload:${s.id}`;
    expect(await redis.pttl(key)).toBeGreaterThan(55_000);
    await redis.pexpire(key, 5_000);
    await sessions.setOffset(s.id, 10, Date.now());
    expect(await redis.pttl(key)).toBeGreaterThan(55_000);
  });

  it('forgets a session idle past its TTL, and drops it from the stale index as it is met', async () => {
    const sessions = store(200);
    const s = session();
    await sessions.create(s);
    await new Promise((r) => setTimeout(r, 400));
    expect(await sessions.get(s.id)).toBeNull();
    expect(await sessions.setOffset(s.id, 1, Date.now())).toBe(false);
    expect(await redis.zcard(`${prefix}uploads:updated`)).toBe(1);
    expect(await sessions.listStale(Date.now() + 1, 10)).toEqual([]);
    expect(await redis.zcard(`${prefix}uploads:updated`)).toBe(0);
  });

  it('locks with an expiry of their own, so a holder that died frees the upload', async () => {
    const sessions = store(60_000);
    const s = session();
    await sessions.create(s);
    expect(await sessions.tryLock(s.id, 'replica-a', 15_000)).toBe(true);
    const pttl = await redis.pttl(`${prefix}lock:${s.id}`);
    expect(pttl).toBeGreaterThan(10_000);
    expect(pttl).toBeLessThanOrEqual(15_000);
    await sessions.delete(s.id);
    expect(await redis.exists(`${prefix}lock:${s.id}`)).toBe(0);
  });
});
