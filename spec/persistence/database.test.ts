import { DatabaseContendedError } from '../../src/persistence/database-faults';
import { PostgresDatabase } from '../../src/persistence/postgres-database';
import { numberedPlaceholders } from '../../src/persistence/placeholders';
import { createTestDatabase, DIALECTS, type TestDatabase } from './support/test-databases';

/** A promise and the function that settles it: a test's way to hold a transaction open. */
function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('numberedPlaceholders', () => {
  it('numbers ? in order and leaves ? inside quoted literals and identifiers alone', () => {
    expect(numberedPlaceholders(`SELECT '?' AS "a?", ? AS b WHERE c = ? AND d = 'it''s ?'`)).toBe(
      `SELECT '?' AS "a?", $1 AS b WHERE c = $2 AND d = 'it''s ?'`,
    );
  });
});

for (const dialect of DIALECTS) {
  describe(`Database on ${dialect}`, () => {
    let t: TestDatabase;
    beforeEach(async () => {
      t = await createTestDatabase(dialect);
      await t.db.exec(
        'CREATE TABLE items (name TEXT PRIMARY KEY, at BIGINT NOT NULL, data BYTEA_OR_BLOB)'.replace(
          'BYTEA_OR_BLOB',
          dialect === 'postgres' ? 'BYTEA' : 'BLOB',
        ),
      );
    });
    afterEach(() => t.dispose());

    it('binds ? parameters and gives BIGINT back as a number, bytes as a Buffer', async () => {
      await t.db.run('INSERT INTO items (name, at, data) VALUES (?, ?, ?)', ['a', 1_765_000_000_123, Buffer.from([1, 2])]);
      const row = await t.db.get<{ name: string; at: number; data: Buffer; n: number }>(
        "SELECT name, at, data, (SELECT count(*) FROM items) AS n FROM items WHERE name = ? AND '?' = '?'",
        ['a'],
      );
      expect(row).toEqual({ name: 'a', at: 1_765_000_000_123, data: Buffer.from([1, 2]), n: 1 });
      expect(await t.db.get('SELECT name FROM items WHERE name = ?', ['b'])).toBeUndefined();
    });

    it('counts the rows a statement changed', async () => {
      await t.db.run('INSERT INTO items (name, at) VALUES (?, ?), (?, ?)', ['a', 1, 'b', 2]);
      expect(await t.db.run('UPDATE items SET at = at + 1')).toEqual({ changes: 2 });
      expect(await t.db.run('DELETE FROM items WHERE name = ?', ['none'])).toEqual({ changes: 0 });
    });

    it('commits a transaction that resolves and rolls back one that throws', async () => {
      await t.db.transaction((tx) => tx.run('INSERT INTO items (name, at) VALUES (?, ?)', ['kept', 1]));
      await expect(
        t.db.transaction(async (tx) => {
          await tx.run('INSERT INTO items (name, at) VALUES (?, ?)', ['lost', 1]);
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      expect(await t.db.all('SELECT name FROM items')).toEqual([{ name: 'kept' }]);
    });

    it('keeps a query made outside an open transaction out of it', async () => {
      const hold = gate();
      const inside = t.db.transaction(async (tx) => {
        await tx.run('INSERT INTO items (name, at) VALUES (?, ?)', ['inside', 1]);
        await hold.opened;
        throw new Error('rolled back');
      });
      const outside = t.db.run('INSERT INTO items (name, at) VALUES (?, ?)', ['outside', 2]);
      hold.open();
      await expect(inside).rejects.toThrow('rolled back');
      await outside;
      expect(await t.db.all('SELECT name FROM items')).toEqual([{ name: 'outside' }]);
    });

    it('serialises concurrent read-modify-write transactions: none is lost', async () => {
      await t.db.run('INSERT INTO items (name, at) VALUES (?, ?)', ['counter', 0]);
      const others = [t.db, await t.another().catch(() => t.db), await t.another().catch(() => t.db)];
      await Promise.all(
        others.map((db) =>
          db.transaction(async (tx) => {
            const row = await tx.get<{ at: number }>('SELECT at FROM items WHERE name = ?', ['counter']);
            await tx.run('UPDATE items SET at = ? WHERE name = ?', [row!.at + 1, 'counter']);
          }),
        ),
      );
      expect(await t.db.get('SELECT at FROM items WHERE name = ?', ['counter'])).toEqual({ at: 3 });
    });

    // queueOn: transactions naming one row take turns before they begin, so none is retried. On PostgreSQL
    // without it, SERIALIZABLE aborts and retries most of these (the case below counts each body's runs).
    it('runs transactions sharing a queueOn name one at a time over three pools, each body once, none lost', async () => {
      await t.db.run('INSERT INTO items (name, at) VALUES (?, ?)', ['queued', 0]);
      const pools = [t.db, await t.another().catch(() => t.db), await t.another().catch(() => t.db)];
      let runs = 0;
      await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          pools[i % pools.length]!.transaction(
            async (tx) => {
              runs++;
              const row = await tx.get<{ at: number }>('SELECT at FROM items WHERE name = ?', ['queued']);
              await new Promise((resolve) => setTimeout(resolve, 2));
              await tx.run('UPDATE items SET at = ? WHERE name = ?', [row!.at + 1, 'queued']);
            },
            { queueOn: ['items:queued', i % 2 === 0 ? 'also:this' : 'and:that'] },
          ),
        ),
      );
      expect(await t.db.get('SELECT at FROM items WHERE name = ?', ['queued'])).toEqual({ at: 24 });
      expect(runs).toBe(24);
    });

    it('gives a queueOn name back when its transaction throws: the next one with it commits', async () => {
      const failed = t.db.transaction(
        async (tx) => {
          await tx.run('INSERT INTO items (name, at) VALUES (?, ?)', ['rolled-back', 1]);
          throw new Error('the body failed');
        },
        { queueOn: ['items:x'] },
      );
      await expect(failed).rejects.toThrow('the body failed');
      const other = await t.another().catch(() => t.db);
      await other.transaction((tx) => tx.run('INSERT INTO items (name, at) VALUES (?, ?)', ['committed', 2]), { queueOn: ['items:x'] });
      expect(await t.db.all('SELECT name FROM items ORDER BY name')).toEqual([{ name: 'committed' }]);
    });

    it('answers a ping', async () => {
      await expect(t.db.ping()).resolves.toBeUndefined();
    });
  });
}

describe('PostgresDatabase', () => {
  it('holds withLock for one holder at a time, across pools (replicas)', async () => {
    const t = await createTestDatabase('postgres');
    try {
      const other = await t.another();
      const order: string[] = [];
      const hold = gate();
      const first = t.db.withLock(424242, async () => {
        order.push('first in');
        await hold.opened;
        order.push('first out');
      });
      // Wait until the first holds the lock (its body has run), then ask for it from another pool.
      while (order.length === 0) await new Promise((resolve) => setImmediate(resolve));
      const second = other.withLock(424242, async () => void order.push('second in'));
      // Release only once the second is seen waiting on the server (or, were the lock broken, has run).
      const waitingOnLock = async () =>
        (await t.db.get<{ n: number }>("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"))!.n > 0;
      while (!order.includes('second in') && !(await waitingOnLock())) await new Promise((resolve) => setImmediate(resolve));
      hold.open();
      await Promise.all([first, second]);
      expect(order).toEqual(['first in', 'first out', 'second in']);
    } finally {
      await t.dispose();
    }
  });

  it('lets transactions with different queueOn names run at once, and holds one with a taken name until it commits', async () => {
    const t = await createTestDatabase('postgres');
    try {
      await t.db.exec('CREATE TABLE marks (name TEXT PRIMARY KEY)');
      const other = await t.another();
      const hold = gate();
      const order: string[] = [];
      const first = t.db.transaction(
        async (tx) => {
          order.push('first in');
          await tx.run('INSERT INTO marks (name) VALUES (?)', ['first']);
          await hold.opened;
          order.push('first out');
        },
        { queueOn: ['row:a'] },
      );
      while (order.length === 0) await new Promise((resolve) => setImmediate(resolve));
      // Another name, another replica: not held up by the open transaction.
      await other.transaction((tx) => tx.run('INSERT INTO marks (name) VALUES (?)', ['unrelated']), { queueOn: ['row:b'] });
      order.push('unrelated done');
      const same = other.transaction(
        async (tx) => {
          order.push('same in');
          await tx.run('INSERT INTO marks (name) VALUES (?)', ['same']);
        },
        { queueOn: ['row:a', 'row:c'] },
      );
      const waitingOnLock = async () =>
        (await t.db.get<{ n: number }>("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"))!.n > 0;
      while (!order.includes('same in') && !(await waitingOnLock())) await new Promise((resolve) => setImmediate(resolve));
      hold.open();
      await Promise.all([first, same]);
      expect(order).toEqual(['first in', 'unrelated done', 'first out', 'same in']);
      // Nothing left held: every advisory lock was given back.
      expect(await t.db.get("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory'")).toEqual({ n: 0 });
    } finally {
      await t.dispose();
    }
  });

  // Read coalescing (src/persistence/coalesced-reads.ts) on a real server: txid_current() numbers each execution.
  it('shares one execution among identical SELECTs waiting for a turn, and never among INSERT … RETURNING', async () => {
    const t = await createTestDatabase('postgres');
    const db = new PostgresDatabase({ url: t.url!, maxConnections: 4, maxReadsInFlight: 1 });
    try {
      await t.db.exec('CREATE TABLE seq (id SERIAL PRIMARY KEY, v TEXT NOT NULL)');
      const executions = await Promise.all(Array.from({ length: 40 }, () => db.get<{ x: string }>('SELECT txid_current()::text AS x')));
      // The first went at once; the 39 that waited behind it went as one.
      expect(new Set(executions.map((row) => row!.x)).size).toBe(2);
      const inserted = await Promise.all(
        Array.from({ length: 20 }, () => db.get<{ id: number }>('INSERT INTO seq (v) VALUES (?) RETURNING id', ['same'])),
      );
      expect(new Set(inserted.map((row) => row!.id)).size).toBe(20);
    } finally {
      await db.close();
      await t.dispose();
    }
  });

  // Write skew on purpose: each transaction reads the whole table, then inserts into it. Under
  // SERIALIZABLE most of them conflict; retried at once, 5 attempts left 500s behind (concurrent
  // manifest PUTs into different repositories did so through the registry).
  it('commits every one of 24 conflicting transactions, retrying its serialization failures', async () => {
    const t = await createTestDatabase('postgres');
    try {
      await t.db.exec('CREATE TABLE entries (n INTEGER PRIMARY KEY)');
      const pools = [t.db, await t.another(), await t.another()];
      const outcomes = await Promise.allSettled(
        Array.from({ length: 24 }, (_, i) =>
          pools[i % pools.length]!.transaction(async (tx) => {
            const row = await tx.get<{ n: number }>('SELECT count(*) AS n FROM entries');
            await new Promise((resolve) => setTimeout(resolve, 2));
            await tx.run('INSERT INTO entries (n) VALUES (?)', [i + 1000 * row!.n]);
          }),
        ),
      );
      expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
      expect(await t.db.get('SELECT count(*) AS n FROM entries')).toEqual({ n: 24 });
    } finally {
      await t.dispose();
    }
  });

  it('gives up on a transaction that keeps conflicting with a DatabaseContendedError, within its bound', async () => {
    const t = await createTestDatabase('postgres');
    const contentionMs = 1_500;
    const db = new PostgresDatabase({ url: t.url!, timeouts: { contentionMs } });
    try {
      let attempts = 0;
      const started = Date.now();
      const conflict = Object.assign(new Error('could not serialize access'), { code: '40001' });
      const outcome = db.transaction(async () => {
        attempts++;
        throw conflict;
      });
      await expect(outcome).rejects.toBeInstanceOf(DatabaseContendedError);
      await expect(outcome).rejects.toMatchObject({ cause: conflict });
      expect(attempts).toBeGreaterThan(5);
      // It kept trying for most of its bound, and not past it.
      expect(Date.now() - started).toBeGreaterThan(contentionMs / 2);
      expect(Date.now() - started).toBeLessThan(contentionMs + 1000);
    } finally {
      await db.close();
      await t.dispose();
    }
  });

  it('fails a ping to a server that is not there, within its connect timeout', async () => {
    const db = new PostgresDatabase({ url: 'postgres://berth@127.0.0.1:1/postgres' });
    await expect(db.ping()).rejects.toThrow();
    await db.close();
  });
});
