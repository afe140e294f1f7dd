import { Pool, TypeOverrides, type PoolClient } from 'pg';
import type { Database, Queryable, SqlValue } from './database';
import { numberedPlaceholders } from './placeholders';

export interface PostgresOptions {
  /** `postgres://user:password@host:port/database` */
  url: string;
  /** Connections per process. */
  maxConnections?: number;
  /** An idle pooled connection failed (e.g. the server restarted); the pool replaces it. */
  onIdleError?(err: Error): void;
}

/** SQLSTATEs after which a transaction is retried from the start: serialization_failure, deadlock_detected. */
const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 5;

/**
 * The Database interface over a node-postgres pool. Stores write `?`
 * placeholders; they become `$1…$n` here (translated once per query text).
 * BIGINT columns (milliseconds since the epoch) come back as numbers, as
 * they do from SQLite, not as pg's default strings.
 */
export class PostgresDatabase implements Database {
  readonly dialect = 'postgres';
  private readonly pool: Pool;
  private readonly direct: Queryable;

  constructor(options: PostgresOptions) {
    const types = new TypeOverrides();
    types.setTypeParser(20, 'text', parseInt8);
    this.pool = new Pool({
      connectionString: options.url,
      max: options.maxConnections ?? 10,
      // A server that is down or frozen must fail a request in bounded time, not hang it.
      connectionTimeoutMillis: 5_000,
      types,
    });
    this.pool.on('error', (err) => options.onIdleError?.(err));
    this.direct = queryable((text, params) => this.pool.query(text, params));
  }

  all<Row extends object>(sql: string, params?: readonly SqlValue[]): Promise<Row[]> {
    return this.direct.all<Row>(sql, params);
  }

  get<Row extends object>(sql: string, params?: readonly SqlValue[]): Promise<Row | undefined> {
    return this.direct.get<Row>(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return this.direct.run(sql, params);
  }

  exec(sql: string): Promise<void> {
    return this.direct.exec(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      const tx = queryable((text, params) => client.query(text, params));
      for (let attempt = 1; ; attempt++) {
        await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
        try {
          const result = await fn(tx);
          await client.query('COMMIT');
          return result;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          if (attempt >= MAX_ATTEMPTS || !RETRYABLE.has(sqlState(err))) throw err;
        }
      }
    } finally {
      client.release();
    }
  }

  async withLock<T>(key: number, fn: () => Promise<T>): Promise<T> {
    // A session lock: held by this one connection, released by unlock or when the connection ends
    // (a replica killed while holding it frees it at once).
    const client: PoolClient = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [key]);
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [key]);
      }
    } finally {
      client.release();
    }
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

type Send = (text: string, params: SqlValue[] | undefined) => Promise<{ rows: unknown[]; rowCount: number | null }>;

function queryable(send: Send): Queryable {
  return {
    all: async <Row extends object>(sql: string, params: readonly SqlValue[] = []) =>
      (await send(numberedPlaceholders(sql), [...params])).rows as Row[],
    get: async <Row extends object>(sql: string, params: readonly SqlValue[] = []) =>
      (await send(numberedPlaceholders(sql), [...params])).rows[0] as Row | undefined,
    run: async (sql, params = []) => ({ changes: (await send(numberedPlaceholders(sql), [...params])).rowCount ?? 0 }),
    // No parameters: the simple query protocol, which takes several statements at once.
    exec: async (sql) => void (await send(sql, undefined)),
  };
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
