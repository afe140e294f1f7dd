import { databaseFault, DatabaseUnavailableError } from '../../src/persistence/database-faults';
import { PostgresDatabase } from '../../src/persistence/postgres-database';
import type { Request, Response } from 'express';
import { readinessHandler } from '../../src/http/readiness';
import { errorAnswer } from '../../src/http/error-mapping';
import { startOwnPostgres, type OwnPostgres } from './support/own-postgres';

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('databaseFault', () => {
  it.each([
    ['connection refused', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['connection reset', withCode('read ECONNRESET', 'ECONNRESET')],
    ['admin_shutdown', withCode('terminating connection due to administrator command', '57P01')],
    ['cannot_connect_now', withCode('the database system is starting up', '57P03')],
    ['a class 08 connection exception', withCode('connection failure', '08006')],
    ['our statement_timeout', withCode('canceling statement due to statement timeout', '57014')],
    ['the client-side query timeout', new Error('Query read timeout')],
    ['the pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['a lost connection', new Error('Connection terminated unexpectedly')],
  ])('types %s as DatabaseUnavailableError', (_name, err) => {
    const fault = databaseFault(err);
    expect(fault).toBeInstanceOf(DatabaseUnavailableError);
    expect(fault?.cause).toBe(err);
  });

  it.each([
    ['a unique violation', withCode('duplicate key value', '23505')],
    ['a syntax error', withCode('syntax error at or near "SELEC"', '42601')],
    ['a serialization failure (retried, not unavailable)', withCode('could not serialize access', '40001')],
    ['a plain error', new Error('something else')],
  ])('leaves %s alone', (_name, err) => {
    expect(databaseFault(err)).toBeNull();
  });

  it('becomes 503 UNAVAILABLE with Retry-After at the HTTP edge', () => {
    const error = errorAnswer(new DatabaseUnavailableError(new Error('gone'), 2), 'registry');
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.status).toBe(503);
    expect(error.headers).toEqual({ 'Retry-After': '2' });
  });
});

/** Short bounds, so a frozen server is detected in about a second and a half. */
const TIMEOUTS = { connectMs: 1_000, queryMs: 1_000, migrationMs: 10_000 };
/** The longest a failing call may take: the client-side bound (queryMs + 1 s grace) plus scheduling slack on a loaded machine. */
const FAILS_WITHIN_MS = 4_000;

/** GET /readyz with the database as its one check: the status it answers and how long it took. */
async function readyz(db: PostgresDatabase): Promise<{ status: number; ms: number }> {
  let status = 0;
  const res = {
    status(code: number) {
      status = code;
      return res;
    },
    set: () => res,
    json: () => res,
  };
  const req = { log: { warn: () => undefined } };
  const started = Date.now();
  await readinessHandler([{ name: 'metadata-db', probe: () => db.ping() }])(req as unknown as Request, res as unknown as Response);
  return { status, ms: Date.now() - started };
}

async function failureOf(work: Promise<unknown>): Promise<{ err: unknown; ms: number }> {
  const started = Date.now();
  try {
    await work;
  } catch (err) {
    return { err, ms: Date.now() - started };
  }
  throw new Error('expected the call to fail');
}

describe('PostgresDatabase when its server goes away (a PostgreSQL of its own)', () => {
  let pg: OwnPostgres;
  let db: PostgresDatabase;
  const idleErrors: Error[] = [];

  beforeAll(async () => {
    pg = await startOwnPostgres();
  }, 60_000);
  afterAll(async () => {
    await pg?.stop();
  }, 30_000);

  beforeEach(async () => {
    idleErrors.length = 0;
    db = new PostgresDatabase({ url: pg.url, maxConnections: 4, timeouts: TIMEOUTS, onIdleError: (err) => idleErrors.push(err) });
    await db.exec('DROP TABLE IF EXISTS kept; CREATE TABLE kept (name TEXT PRIMARY KEY)');
    await db.run('INSERT INTO kept (name) VALUES (?) ON CONFLICT (name) DO NOTHING', ['before']);
  });
  afterEach(async () => {
    await db.close();
  });

  it('fails fast with DatabaseUnavailableError while it is down and recovers by itself after a restart', async () => {
    await pg.do('pg_down');
    try {
      const calls = [() => db.get('SELECT name FROM kept'), () => db.ping(), () => db.transaction((tx) => tx.get('SELECT 1 AS one'))];
      for (const call of calls) {
        const { err, ms } = await failureOf(call());
        expect(err).toBeInstanceOf(DatabaseUnavailableError);
        expect(ms).toBeLessThan(FAILS_WITHIN_MS);
      }
    } finally {
      await pg.do('pg_up');
    }
    // The pooled connections died with the old server; the pool dropped them (reported, no crash) and connects anew.
    expect(await db.all('SELECT name FROM kept')).toEqual([{ name: 'before' }]);
    await db.transaction((tx) => tx.run('INSERT INTO kept (name) VALUES (?) ON CONFLICT (name) DO NOTHING', ['after']));
    expect(await db.get('SELECT count(*) AS n FROM kept')).toEqual({ n: 2 });
  }, 60_000);

  it("fails a transaction held open across a restart (no crash on the connection's error event) and serves after", async () => {
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    const transaction = failureOf(
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO kept (name) VALUES (?)', ['in-flight']);
        held();
        await new Promise((resolve) => setTimeout(resolve, 1_500)); // the server goes away meanwhile
        return tx.get('SELECT 1 AS one');
      }),
    );
    await holding;
    await pg.do('pg_down');
    await pg.do('pg_up');
    expect((await transaction).err).toBeInstanceOf(DatabaseUnavailableError);
    expect(await db.all('SELECT name FROM kept')).toEqual([{ name: 'before' }]);
  }, 60_000);

  it('/readyz answers 503 within its bound while the server is frozen or down, 200 after', async () => {
    expect((await readyz(db)).status).toBe(200);
    await pg.do('pg_freeze');
    try {
      const frozen = await readyz(db);
      expect(frozen.status).toBe(503);
      expect(frozen.ms).toBeLessThan(FAILS_WITHIN_MS);
    } finally {
      await pg.do('pg_thaw');
    }
    await pg.do('pg_down');
    try {
      expect((await readyz(db)).status).toBe(503);
    } finally {
      await pg.do('pg_up');
    }
    expect((await readyz(db)).status).toBe(200);
  }, 60_000);

  it('fails in bounded time while it is frozen (SIGSTOP), on pooled and new connections, and recovers after SIGCONT', async () => {
    // Several idle pooled connections first, so the frozen server is met both on a pooled connection and on a new one.
    await Promise.all([1, 2, 3].map(() => db.transaction((tx) => tx.get('SELECT pg_sleep(0.05)'))));
    await pg.do('pg_freeze');
    let longest = 0;
    try {
      const calls = [
        db.get('SELECT name FROM kept'),
        db.transaction((tx) => tx.run('INSERT INTO kept (name) VALUES (?)', ['frozen'])),
        db.ping(),
        db.get('SELECT 1 AS one'),
        db.get('SELECT 2 AS two'),
      ];
      for (const { err, ms } of await Promise.all(calls.map(failureOf))) {
        expect(err).toBeInstanceOf(DatabaseUnavailableError);
        longest = Math.max(longest, ms);
      }
      expect(longest).toBeLessThan(FAILS_WITHIN_MS);
      expect(longest).toBeGreaterThanOrEqual(TIMEOUTS.queryMs); // it did wait for the server: a frozen one, not a refused one
    } finally {
      await pg.do('pg_thaw');
    }
    // The transaction cut off by the freeze never committed.
    expect(await db.all('SELECT name FROM kept ORDER BY name')).toEqual([{ name: 'before' }]);
    await db.run('INSERT INTO kept (name) VALUES (?) ON CONFLICT (name) DO NOTHING', ['thawed']);
    expect(await db.get('SELECT count(*) AS n FROM kept WHERE name = ?', ['thawed'])).toEqual({ n: 1 });
  }, 60_000);
});
