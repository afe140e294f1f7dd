import { createServer, type Server } from 'node:net';
import { Redis } from 'ioredis';
import { openSqliteStores } from '../support/sqlite-stores';
import { asRedisFault } from '../../src/sessions/redis/redis-faults';
import { RedisUploadSessionStore } from '../../src/sessions/redis/redis-upload-session-store';
import { asS3Fault } from '../../src/storage/s3/s3-faults';
import { localStorageFault, StorageFullError, StorageUnavailableError } from '../../src/storage/storage-faults';

/** How each driver and session store names its faults; the HTTP answers are checked in storage-faults.test.ts. */
const session = { id: 'a1', repository: 'r', offset: 0, startedAt: 1, updatedAt: 1 };

describe('local storage faults (filesystem errno, SQLite codes)', () => {
  const err = (code: string) => Object.assign(new Error(code), { code });

  it.each(['ENOSPC', 'EDQUOT', 'SQLITE_FULL'])('%s is a full store', (code) => {
    expect(localStorageFault(err(code))).toBeInstanceOf(StorageFullError);
  });

  it.each(['EIO', 'EACCES', 'EROFS', 'ETIMEDOUT', 'EMFILE', 'SQLITE_BUSY', 'SQLITE_IOERR_FSYNC', 'SQLITE_READONLY'])(
    '%s is an unavailable store',
    (code) => {
      expect(localStorageFault(err(code))).toBeInstanceOf(StorageUnavailableError);
    },
  );

  it.each(['ENOENT', 'ECONNRESET', 'EPIPE', 'SQLITE_CONSTRAINT_PRIMARYKEY'])('%s is not a storage fault', (code) => {
    expect(localStorageFault(err(code))).toBeNull();
  });

  it('a SQLite session store that cannot write reports an unavailable store', async () => {
    const sqlite = await openSqliteStores(':memory:');
    try {
      const store = sqlite.sessions;
      await store.create(session);
      sqlite.connection.pragma('query_only = 1');
      await expect(store.setOffset(session.id, 5, 2)).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(store.create({ ...session, id: 'a2' })).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(store.get(session.id)).resolves.toMatchObject({ offset: 0 });
    } finally {
      await sqlite.close();
    }
  });
});

describe('S3 faults', () => {
  const s3Error = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

  it.each([
    ['SlowDown', 503],
    ['InternalError', 500],
    ['ServiceUnavailable', 503],
    ['AccessDenied', 403],
  ])('%s (%d) is an unavailable store', (name, status) => {
    expect(asS3Fault(s3Error(name, status))).toBeInstanceOf(StorageUnavailableError);
  });

  it('a reset connection to S3 is an unavailable store, SlowDown asks for a longer wait', () => {
    expect(asS3Fault(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBeInstanceOf(StorageUnavailableError);
    expect((asS3Fault(s3Error('SlowDown', 503)) as StorageUnavailableError).retryAfterSeconds).toBeGreaterThan(1);
  });

  it('507 is a full store; a 404 and a 400 stay what they are', () => {
    expect(asS3Fault(s3Error('InsufficientStorage', 507))).toBeInstanceOf(StorageFullError);
    const missing = s3Error('NoSuchKey', 404);
    expect(asS3Fault(missing)).toBe(missing);
    const invalid = s3Error('InvalidPart', 400);
    expect(asS3Fault(invalid)).toBe(invalid);
  });
});

describe('Redis faults', () => {
  const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });

  it('maxmemory reached (OOM) is a full store, a loading or read-only Redis an unavailable one', () => {
    expect(asRedisFault(reply("OOM command not allowed when used memory > 'maxmemory'."))).toBeInstanceOf(StorageFullError);
    expect(asRedisFault(reply('LOADING Redis is loading the dataset in memory'))).toBeInstanceOf(StorageUnavailableError);
    expect(asRedisFault(reply("READONLY You can't write against a read only replica."))).toBeInstanceOf(StorageUnavailableError);
  });

  it('a script error is a bug, not a storage fault', () => {
    const bug = reply('ERR Error running script');
    expect(asRedisFault(bug)).toBe(bug);
  });

  describe('a Redis whose connection is down (no offline queue, a server that resets)', () => {
    let server: Server;
    let redis: Redis;

    beforeAll(async () => {
      server = createServer((socket) => socket.resetAndDestroy());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      redis = new Redis(port, '127.0.0.1', {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        enableOfflineQueue: false,
      });
      redis.on('error', () => undefined);
    });

    afterAll(async () => {
      redis.disconnect();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('makes every session operation an unavailable store', async () => {
      const store = new RedisUploadSessionStore(redis, { keyPrefix: 'faults:', sessionTtlMs: 60_000 });
      await expect(store.get('a1')).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(store.create(session)).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(store.setOffset('a1', 1, 2)).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(store.delete('a1')).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(store.listStale(0, 10)).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(store.tryLock('a1', 'me', 1000)).rejects.toBeInstanceOf(StorageUnavailableError);
    });
  });
});
