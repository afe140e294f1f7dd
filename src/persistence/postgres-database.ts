import { Pool, TypeOverrides, type PoolClient, type QueryConfig } from 'pg';
import { createHash } from 'node:crypto';
import type { Database, Queryable, SqlValue, TransactionOptions } from './database';
import { CoalescedReads } from './coalesced-reads';
import { DatabaseContendedError, databaseFault } from './database-faults';
import { KeyedQueue } from './keyed-queue';
import { numberedPlaceholders } from './placeholders';

export interface PostgresOptions {
  /** `postgres://user:password@host:port/database` */
  url: string;
  /** Connections per process. */
  maxConnections?: number;
  /** An idle pooled connection failed (e.g. the server restarted); the pool replaces it. */
  onIdleError?(err: Error): void;
  /** Bounds on waiting for the server; the defaults are TIMEOUTS. */
  timeouts?: Partial<PostgresTimeouts>;
  /** Plain SELECTs outside transactions at the server at once before identical ones share a query (coalesced-reads.ts). */
  maxReadsInFlight?: number;
}

export interface PostgresTimeouts {
  /** Opening a connection, or waiting for a free one in the pool. */
  connectMs: number;
  /** One query: the server cancels it (statement_timeout) and the client gives up a second later. */
  queryMs: number;
  /** One migration statement, or waiting for another replica's migrations (the advisory lock). */
  migrationMs: number;
  /** Retrying a transaction that conflicts with concurrent ones (nothing is wrong with the server): then a 503. */
  contentionMs: number;
}

/**
 * A server that is down or frozen (SIGSTOP: the kernel still accepts the TCP connection, nobody answers)
 * must fail a request in a few seconds, not hang it. Queries here are index lookups of a few ms; 3 s is
 * far past any of them under load. Measured (conformance/scale-out/replicas.sh, PostgreSQL frozen 5 s):
 * with 5 s + 1 s the requests caught by the freeze simply waited it out (longest answer 5.03 s, no 503),
 * so a stall of seconds was invisible to clients and their retries; with 3 s + 1 s they answer 503.
 */
export const TIMEOUTS: PostgresTimeouts = { connectMs: 2_000, queryMs: 3_000, migrationMs: 300_000, contentionMs: 10_000 };
/** The client-side bound is past the server's, so a slow but alive server answers with its own cancellation. */
const CLIENT_GRACE_MS = 1_000;
/**
 * Plain reads at the server at once per process before identical ones wait and share a query
 * (coalesced-reads.ts). Measured with `make bench` (64 connections GETting one tag, PostgreSQL on the
 * same 2 cores, a loaded machine): one query per read 3554 req/s (2983 profiled); sharing past 10 in flight 5466,
 * past 6 7403, past 4 7915-9555, past 2 8237 (p99 twice as long). Transactions and writes are not limited.
 */
const READS_IN_FLIGHT = 4;
/** Connections per process for allInOwnTransaction's one-statement writes (manifest pushes). */
const SERIALIZABLE_CONNECTIONS = 4;

/** SQLSTATEs after which a transaction is retried from the start: serialization_failure, deadlock_detected. */
const RETRYABLE = new Set(['40001', '40P01']);
/**
 * Retries of a conflicting transaction: after a random pause that doubles up to a cap, so the
 * transactions that collided do not collide again in lockstep. Measured with 24 write-skewed
 * transactions on 3 pools (spec/persistence/database.test.ts): retried at once, 5 attempts left
 * several failed; with these pauses all 144 of 6 runs committed, the unluckiest on its 9th attempt
 * after 0.97 s. Bounded in attempts and in time (TIMEOUTS.contentionMs), then DatabaseContendedError, a 503.
 * The time bound was the query bound (3 s) until a CI run beside the full suite, where one attempt of a blob
 * link took 185 ms, gave up on seeding pushes of one owner (8 at once) with 503s: conflicts, not an outage,
 * are worth a longer wait than a server that does not answer.
 */
const RETRY = { maxAttempts: 50, firstPauseMs: 2, maxPauseMs: 250 };

/**
 * The Database interface over a node-postgres pool. Stores write `?`
 * placeholders; they become `$1…$n` here (translated once per query text).
 * BIGINT columns (milliseconds since the epoch) come back as numbers, as
 * they do from SQLite, not as pg's default strings.
 */
export class PostgresDatabase implements Database {
  readonly dialect = 'postgres';
  private readonly pool: Pool;
  /** For allInOwnTransaction: made on first use, so a process that never writes that way holds no more connections. */
  private serializablePool: Pool | null = null;
  private readonly direct: Queryable;
  private readonly reads: CoalescedReads;
  private readonly timeouts: PostgresTimeouts;
  /** queueOn's turns in this process: one transaction per name waits at the server, the others here, holding no connection. */
  private readonly turns = new KeyedQueue();

  constructor(private readonly options: PostgresOptions) {
    const timeouts = (this.timeouts = { ...TIMEOUTS, ...options.timeouts });
    this.pool = this.newPool(options.maxConnections ?? 10);
    const send: Send = (statement, params, timeoutMs) => this.pool.query(timed(statement, params, timeoutMs));
    this.reads = new CoalescedReads((sql, params) => send(prepared(sql), params), {
      maxInFlight: options.maxReadsInFlight ?? READS_IN_FLIGHT,
      maxWaitMs: timeouts.connectMs,
    });
    this.direct = queryable(
      (statement, params, timeoutMs) =>
        typeof statement !== 'string' && statement.pureRead && params && timeoutMs === undefined
          ? this.reads.read(statement.sql, params)
          : send(statement, params, timeoutMs),
      this.timeouts,
    );
  }

  all<Row extends object>(sql: string, params?: readonly SqlValue[]): Promise<Row[]> {
    return translated(this.direct.all<Row>(sql, params));
  }

  get<Row extends object>(sql: string, params?: readonly SqlValue[]): Promise<Row | undefined> {
    return translated(this.direct.get<Row>(sql, params));
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return translated(this.direct.run(sql, params));
  }

  exec(sql: string): Promise<void> {
    return translated(this.direct.exec(sql));
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const names = options.queueOn ?? [];
    return translated(names.length === 0 ? this.inTransaction(fn) : this.turns.run(names, () => this.inTransaction(fn, names)));
  }

  private inTransaction<T>(fn: (tx: Queryable) => Promise<T>, queueOn: readonly string[] = []): Promise<T> {
    return this.withClient(async (client, discard) => {
      // Session locks taken before BEGIN: the snapshot is then taken after the previous holder's commit.
      const locks = advisoryKeys(queueOn);
      for (const [high, low] of locks) await client.query(timed(prepared('SELECT pg_advisory_lock(?, ?)'), [high, low], undefined));
      try {
        const tx = queryable((text, params, timeoutMs) => client.query(timed(text, params, timeoutMs)), this.timeouts);
        return await this.retriedOnConflict(async () => {
          await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
          try {
            const result = await fn(tx);
            await client.query('COMMIT');
            return result;
          } catch (err) {
            // A lost connection is discarded: nothing to roll back on it.
            if (!databaseFault(err)) await client.query('ROLLBACK').catch(() => undefined);
            throw err;
          }
        });
      } finally {
        // An unlock that fails must not turn a committed transaction into an error: the connection is
        // closed instead, which releases its session locks.
        if (locks.length > 0) await client.query('SELECT pg_advisory_unlock_all()').catch(discard);
      }
    });
  }

  /**
   * Sent on a pool whose sessions default to SERIALIZABLE, the statement is its own transaction with
   * `transaction`'s isolation: one round trip where BEGIN, the statement and COMMIT take three. Measured
   * with `make bench` (1000 tag pushes one by one, a quiet machine): 2.07-2.32 s in a transaction,
   * 1.62 s as one statement, against 1.07-1.25 s on SQLite.
   */
  allInOwnTransaction<Row extends object>(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
    const pool = (this.serializablePool ??= this.newPool(SERIALIZABLE_CONNECTIONS, 'serializable'));
    return translated(this.retriedOnConflict(async () => (await pool.query(timed(prepared(sql), [...params], undefined))).rows as Row[]));
  }

  /** Runs `attempt` again after a serialization failure or deadlock, within RETRY's bounds, then gives up with DatabaseContendedError. */
  private async retriedOnConflict<T>(attempt: () => Promise<T>): Promise<T> {
    const started = Date.now();
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        if (databaseFault(err) || !RETRYABLE.has(sqlState(err))) throw err;
        const pause = retryPauseMs(n);
        if (n >= RETRY.maxAttempts || Date.now() - started + pause > this.timeouts.contentionMs) throw new DatabaseContendedError(err, n);
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  withLock<T>(key: number, fn: () => Promise<T>): Promise<T> {
    return translated(this.holdingLock(key, fn));
  }

  private holdingLock<T>(key: number, fn: () => Promise<T>): Promise<T> {
    // A session lock: held by this one connection, released by unlock or when the connection ends
    // (a replica killed while holding it frees it at once). Waiting for it may last as long as
    // another replica's migrations: the migration bound, set for this one transaction-less wait.
    return this.withClient(async (client) => {
      const migrationMs = this.timeouts.migrationMs;
      await client.query(`SET statement_timeout = ${migrationMs}`);
      await client.query(timed('SELECT pg_advisory_lock($1)', [key], migrationMs + CLIENT_GRACE_MS));
      await client.query('RESET statement_timeout');
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [key]);
      }
    });
  }

  /**
   * One pooled connection held for `work`. While held, the pool does not listen to it: a server that
   * goes away between two queries would emit an unhandled 'error' and crash the process, so it is
   * listened to here. After a connection-level fault it is destroyed, never returned to the pool: it
   * may still have a query in flight to a frozen server, or none to a dead one.
   */
  private async withClient<T>(work: (client: PoolClient, discard: () => void) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let lost = false;
    const onError = (): void => void (lost = true);
    client.on('error', onError);
    try {
      return await work(client, onError);
    } catch (err) {
      if (databaseFault(err)) lost = true;
      throw err;
    } finally {
      client.off('error', onError);
      client.release(lost);
    }
  }

  private newPool(max: number, isolation?: 'serializable'): Pool {
    const types = new TypeOverrides();
    types.setTypeParser(20, 'text', parseInt8);
    const pool = new Pool({
      connectionString: isolation ? withSessionSetting(this.options.url, `default_transaction_isolation=${isolation}`) : this.options.url,
      max,
      connectionTimeoutMillis: this.timeouts.connectMs,
      statement_timeout: this.timeouts.queryMs,
      query_timeout: this.timeouts.queryMs + CLIENT_GRACE_MS,
      // A connection whose server vanished without a FIN (host down, partition) is found by TCP keepalive.
      keepAlive: true,
      types,
    });
    // An idle connection's failure (the server restarted) is reported here and the pool drops it;
    // without a listener it would crash the process.
    pool.on('error', (err) => this.options.onIdleError?.(err));
    return pool;
  }

  async ping(): Promise<void> {
    await translated(this.pool.query('SELECT 1'));
  }

  async close(): Promise<void> {
    await this.serializablePool?.end();
    await this.pool.end();
  }
}

type Send = (
  statement: string | PreparedStatement,
  params: SqlValue[] | undefined,
  timeoutMs?: number,
) => Promise<{ rows: unknown[]; rowCount: number | null }>;

/** A query text in PostgreSQL's form and the name it is prepared under on each connection. */
interface PreparedStatement {
  text: string;
  name: string;
  /** The store's text, as given. */
  sql: string;
  /** A SELECT that changes nothing and locks nothing: identical ones waiting together may share one execution. */
  pureRead: boolean;
}

/** Stores pass constant SQL, so this holds one entry per query text in the code. */
const preparedStatements = new Map<string, PreparedStatement>();

/**
 * Every store query as a named prepared statement: each connection parses and plans it once, then only
 * binds and executes it, where an unnamed statement is parsed and planned again on every call.
 * (A server-side pooler must then keep prepared statements per client: PgBouncer ≥ 1.21 with
 * max_prepared_statements, in transaction mode.)
 */
function prepared(sql: string): PreparedStatement {
  let statement = preparedStatements.get(sql);
  if (!statement) {
    statement = { text: numberedPlaceholders(sql), name: `berth_${preparedStatements.size + 1}`, sql, pureRead: isPureRead(sql) };
    preparedStatements.set(sql, statement);
  }
  return statement;
}

/** Plain SELECTs: no row locks, no advisory locks, no sequences (the stores have none of those in a SELECT; this keeps it so). */
function isPureRead(sql: string): boolean {
  return /^\s*SELECT\b/i.test(sql) && !/\bFOR\s+(UPDATE|SHARE|NO\s+KEY|KEY)\b|pg_advisory|nextval|setval/i.test(sql);
}

function queryable(send: Send, timeouts: PostgresTimeouts): Queryable {
  return {
    all: async <Row extends object>(sql: string, params: readonly SqlValue[] = []) =>
      (await send(prepared(sql), [...params])).rows as Row[],
    get: async <Row extends object>(sql: string, params: readonly SqlValue[] = []) =>
      (await send(prepared(sql), [...params])).rows[0] as Row | undefined,
    run: async (sql, params = []) => ({ changes: (await send(prepared(sql), [...params])).rowCount ?? 0 }),
    // No parameters: the simple query protocol, which takes several statements at once. Only migrations
    // use it (DDL may rewrite a big table): the migration bound, SET LOCAL to these statements' transaction.
    exec: async (sql) =>
      void (await send(
        `SET LOCAL statement_timeout = ${timeouts.migrationMs};\n${sql}`,
        undefined,
        timeouts.migrationMs + CLIENT_GRACE_MS,
      )),
  };
}

/** node-postgres honours a per-query `query_timeout` (overriding the pool's); its type declarations omit it. */
interface TimedQueryConfig extends QueryConfig<SqlValue[]> {
  query_timeout?: number;
}

function timed(statement: string | PreparedStatement, values: SqlValue[] | undefined, timeoutMs: number | undefined): TimedQueryConfig {
  const config: TimedQueryConfig = typeof statement === 'string' ? { text: statement, values } : { ...statement, values };
  return timeoutMs === undefined ? config : { ...config, query_timeout: timeoutMs };
}

/**
 * queueOn's names as advisory lock keys: two 32-bit halves of the name's SHA-256, a key space apart from
 * withLock's 64-bit keys. Sorted and distinct, so every process takes them in one order (no deadlock).
 */
function advisoryKeys(names: readonly string[]): Array<[number, number]> {
  const keys = new Map<string, [number, number]>();
  for (const name of names) {
    const hash = createHash('sha256').update(name).digest();
    const key: [number, number] = [hash.readInt32BE(0), hash.readInt32BE(4)];
    keys.set(key.join(':'), key);
  }
  return [...keys.values()].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

/** A connection-level failure becomes a DatabaseUnavailableError (503 at the edge); any other error stays as it is. */
async function translated<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw databaseFault(err) ?? err;
  }
}

/**
 * The URL with `-c SETTING` added to its `options` parameter. In the URL, not in the pool's `options`:
 * node-postgres lets a connection string's `options` (a search_path, say) replace the pool's, which
 * silently dropped the setting (spec/metadata/sql-metadata-index.test.ts's race caught it).
 */
function withSessionSetting(url: string, setting: string): string {
  const parsed = new URL(url);
  const given = parsed.searchParams.get('options');
  parsed.searchParams.set('options', given ? `${given} -c ${setting}` : `-c ${setting}`);
  return parsed.toString();
}

function parseInt8(text: string): number {
  const n = Number(text);
  // Timestamps and counts fit easily; a value past 2^53 would silently lose digits, so refuse it.
  if (!Number.isSafeInteger(n)) throw new RangeError(`BIGINT ${text} does not fit a JavaScript number`);
  return n;
}

function sqlState(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : '';
}

/** A random pause before retry `attempt` (1, 2, …): "full jitter" over a doubling window, capped. */
function retryPauseMs(attempt: number): number {
  const window = Math.min(RETRY.maxPauseMs, RETRY.firstPauseMs * 2 ** attempt);
  return Math.random() * window;
}
