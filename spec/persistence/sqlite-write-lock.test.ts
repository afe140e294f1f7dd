import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteDatabase } from '../../src/persistence/sqlite-database';
import { openDatabase } from '../../src/persistence/sqlite-file';

/**
 * Two connections to one file, as two workers have: a transaction that finds the write lock taken waits for it
 * without holding up its process, takes it as soon as it is free, and gives up after the busy timeout as before.
 */
describe('SQLite transactions waiting for another connection’s write lock', () => {
  let dir: string;
  let holder: SqliteDatabase;
  let waiter: SqliteDatabase;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'berth-write-lock-'));
    const file = path.join(dir, 'berth.db');
    holder = new SqliteDatabase(openDatabase(file));
    waiter = new SqliteDatabase(openDatabase(file));
    await holder.exec('CREATE TABLE t (n INTEGER)');
  });
  afterEach(async () => {
    await holder.close();
    await waiter.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a transaction on `holder` that keeps the write lock until the returned release is called. */
  async function holdWriteLock(): Promise<{ release: () => void; done: Promise<void> }> {
    let release!: () => void;
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const done = holder.transaction(async (tx) => {
      await tx.run('INSERT INTO t (n) VALUES (1)');
      holding();
      await new Promise<void>((resolve) => (release = resolve));
    });
    await held;
    return { release, done };
  }

  it('lets the process run while it waits, and commits right after the holder does', async () => {
    const { release, done } = await holdWriteLock();
    const started = process.hrtime.bigint();
    let committedAt = 0n;
    const waiting = waiter
      .transaction((tx) => tx.run('INSERT INTO t (n) VALUES (2)'))
      .then(() => {
        committedAt = process.hrtime.bigint();
      });
    // The event loop turns while the lock is taken: timers fire (SQLite's busy handler would sleep the thread).
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    clearInterval(ticker);
    expect(ticks).toBeGreaterThan(10);
    expect(committedAt).toBe(0n);
    const releasedAt = process.hrtime.bigint();
    release();
    await done;
    await waiting;
    expect(committedAt).toBeGreaterThan(releasedAt);
    // Within a retry step (2 ms) of the release and a timer's slack, not the handler's 25-50 ms steps after 50 ms.
    expect(Number(committedAt - releasedAt) / 1e6).toBeLessThan(15);
    expect(Number(committedAt - started) / 1e6).toBeGreaterThanOrEqual(50);
    expect(await waiter.all('SELECT n FROM t ORDER BY n')).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('gives up with SQLITE_BUSY after the connection’s busy timeout, leaving no transaction open', async () => {
    waiter.connection.pragma('busy_timeout = 200');
    const patient = new SqliteDatabase(waiter.connection);
    const { release, done } = await holdWriteLock();
    const started = Date.now();
    await expect(patient.transaction((tx) => tx.run('INSERT INTO t (n) VALUES (3)'))).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(200);
    expect(waited).toBeLessThan(1_000);
    expect(waiter.connection.inTransaction).toBe(false);
    // The connection's own busy timeout is as it was.
    expect(waiter.connection.pragma('busy_timeout', { simple: true })).toBe(200);
    release();
    await done;
    await patient.transaction((tx) => tx.run('INSERT INTO t (n) VALUES (4)'));
    expect(await waiter.all('SELECT n FROM t ORDER BY n')).toEqual([{ n: 1 }, { n: 4 }]);
  });
});
