import type { Redis } from 'ioredis';
import type { UploadSession, UploadSessionStore } from '../upload-session-store';
import { guardRedis } from './redis-faults';

export interface RedisUploadSessionStoreOptions {
  /** Prefix of every key this store writes, so several registries (or tests) can share one Redis. */
  keyPrefix: string;
  /** Idle sessions vanish from Redis this long after their last activity. */
  sessionTtlMs: number;
}

/**
 * Keys, all under the prefix:
 *
 *   upload:<id>        hash   repository, offset, startedAt, updatedAt, hashState?   (expires sessionTtlMs after activity)
 *   uploads:updated    zset   id scored by updatedAt, for listStale
 *   lock:<id>          string the lock owner, SET NX PX: expires on its own if the holder dies
 *
 * Every multi-key change runs as one Lua script, so replicas never see half an update.
 */
const SCRIPTS = {
  // KEYS: session, zset. ARGV: id, repository, offset, startedAt, updatedAt, ttlMs, hashState ('' for none)
  create: `
    if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
    redis.call('HSET', KEYS[1], 'repository', ARGV[2], 'offset', ARGV[3], 'startedAt', ARGV[4], 'updatedAt', ARGV[5])
    if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'hashState', ARGV[7]) end
    redis.call('PEXPIRE', KEYS[1], ARGV[6])
    redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
    return 1`,
  // KEYS: session, zset. ARGV: id, offset, updatedAt, ttlMs, hashState ('' clears it)
  setOffset: `
    if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
    redis.call('HSET', KEYS[1], 'offset', ARGV[2], 'updatedAt', ARGV[3])
    if ARGV[5] == '' then redis.call('HDEL', KEYS[1], 'hashState')
    else redis.call('HSET', KEYS[1], 'hashState', ARGV[5]) end
    redis.call('PEXPIRE', KEYS[1], ARGV[4])
    redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
    return 1`,
  // KEYS: session, lock. ARGV: owner, lockTtlMs. Takes a free lock, or refreshes the owner's own.
  tryLock: `
    if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
    if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
    if redis.call('GET', KEYS[2]) == ARGV[1] then
      redis.call('PEXPIRE', KEYS[2], ARGV[2])
      return 1
    end
    return 0`,
  // KEYS: lock. ARGV: owner. Only the holder releases.
  unlock: `
    if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
    return 0`,
} as const;

type ScriptName = keyof typeof SCRIPTS;

/**
 * Upload sessions in Redis, shared by every replica: sessions expire with
 * their TTL (refreshed on each change), locks expire with theirs, so a
 * replica killed mid-chunk frees its upload within one lock TTL.
 */
export class RedisUploadSessionStore implements UploadSessionStore {
  private readonly staleKey: string;

  /** The client belongs to the caller, who closes it. */
  constructor(
    private readonly redis: Redis,
    private readonly options: RedisUploadSessionStoreOptions,
  ) {
    this.staleKey = `${options.keyPrefix}uploads:updated`;
  }

  private sessionKey(id: string): string {
    return `${this.options.keyPrefix}upload:${id}`;
  }

  private lockKey(id: string): string {
    return `${this.options.keyPrefix}lock:${id}`;
  }

  private async run(name: ScriptName, keys: string[], args: Array<string | number>): Promise<number> {
    const result = await guardRedis(() => this.redis.eval(SCRIPTS[name], keys.length, ...keys, ...args.map(String)));
    return Number(result);
  }

  async create(session: UploadSession): Promise<void> {
    const created = await this.run(
      'create',
      [this.sessionKey(session.id), this.staleKey],
      [
        session.id,
        session.repository,
        session.offset,
        session.startedAt,
        session.updatedAt,
        this.options.sessionTtlMs,
        session.hashState ?? '',
      ],
    );
    if (created !== 1) throw new Error(`upload session ${session.id} already exists`);
  }

  async get(id: string): Promise<UploadSession | null> {
    return toSession(id, await guardRedis(() => this.redis.hgetall(this.sessionKey(id))));
  }

  async setOffset(id: string, offset: number, updatedAt: number, hashState?: string): Promise<boolean> {
    const done = await this.run(
      'setOffset',
      [this.sessionKey(id), this.staleKey],
      [id, offset, updatedAt, this.options.sessionTtlMs, hashState ?? ''],
    );
    return done === 1;
  }

  async delete(id: string): Promise<void> {
    await guardRedis(() => this.redis.multi().del(this.sessionKey(id), this.lockKey(id)).zrem(this.staleKey, id).exec());
  }

  async listStale(before: number, limit: number): Promise<UploadSession[]> {
    return guardRedis(() => this.stale(before, limit));
  }

  private async stale(before: number, limit: number): Promise<UploadSession[]> {
    const found: UploadSession[] = [];
    // Members whose session already expired in Redis are dropped from the index as they are met;
    // their staged bytes are purged as orphans (staged data with no session).
    for (let start = 0, rounds = 0; found.length < limit && rounds < 1000; rounds += 1) {
      const ids = await this.redis.zrangebyscore(this.staleKey, '-inf', `(${before}`, 'LIMIT', start, limit);
      if (ids.length === 0) break;
      const pipeline = this.redis.pipeline();
      for (const id of ids) pipeline.hgetall(this.sessionKey(id));
      const replies = (await pipeline.exec()) ?? [];
      const gone: string[] = [];
      ids.forEach((id, i) => {
        const reply = replies[i];
        const session = reply && !reply[0] ? toSession(id, reply[1] as Record<string, string>) : null;
        if (session) found.push(session);
        else gone.push(id);
      });
      if (gone.length > 0) await this.redis.zrem(this.staleKey, ...gone);
      start += ids.length - gone.length;
    }
    return found.slice(0, limit);
  }

  async tryLock(id: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.run('tryLock', [this.sessionKey(id), this.lockKey(id)], [owner, Math.max(1, Math.ceil(ttlMs))])) === 1;
  }

  async unlock(id: string, owner: string): Promise<void> {
    await this.run('unlock', [this.lockKey(id)], [owner]);
  }

  async close(): Promise<void> {
    // The connection is owned by whoever opened it.
  }
}

function toSession(id: string, fields: Record<string, string>): UploadSession | null {
  if (fields.repository === undefined) return null;
  const session: UploadSession = {
    id,
    repository: fields.repository,
    offset: Number(fields.offset),
    startedAt: Number(fields.startedAt),
    updatedAt: Number(fields.updatedAt),
  };
  if (fields.hashState !== undefined) session.hashState = fields.hashState;
  return session;
}
