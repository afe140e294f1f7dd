import BetterSqlite3 from 'better-sqlite3';
import type { Database, Queryable, SqlValue } from './database';
import { WalCheckpointer } from './wal-checkpointer';

export interface SqliteOptions {
  /** The connection's file, to checkpoint its WAL on a thread of its own (wal-checkpointer.ts): serving processes. */
  checkpointFile?: string;
  /** The checkpoint thread stopped on its own (the connection checkpoints itself again). */
  onCheckpointFailure?(err: Error): void;
}

/**
 * The Database interface over one better-sqlite3 connection. better-sqlite3
 * is synchronous, so a query outside a transaction runs at once; while an
 * async transaction is open on the connection, other queries wait for it
 * (they would otherwise run inside it), and so do other transactions.
 */
export class SqliteDatabase implements Database {
  readonly dialect = 'sqlite';
  /** Stores pass constant SQL, so this holds one entry per query text in the code. */
  private readonly statements = new Map<string, BetterSqlite3.Statement<unknown[], unknown>>();
  /** The open transaction's end, while there is one; queries outside it wait. */
  private busy: Promise<void> | undefined;
  private readonly direct: Queryable;

  private readonly checkpointer: WalCheckpointer | null;
  /** The connection's busy timeout (ms), which transactions' own waits for the write lock keep to. */
  private readonly busyTimeoutMs: number;

  /** `connection` is owned by the caller while legacy stores still share it (see migration-runner.ts). */
  constructor(
    readonly connection: BetterSqlite3.Database,
    options: SqliteOptions = {},
  ) {
    this.checkpointer = options.checkpointFile
      ? new WalCheckpointer(options.checkpointFile, connection, (err) => options.onCheckpointFailure?.(err))
      : null;
    this.busyTimeoutMs = Number(connection.pragma('busy_timeout', { simple: true }));
    this.direct = {
      all: async <Row extends object>(sql: string, params: readonly SqlValue[] = []) => this.prepare(sql).all(...params) as Row[],
      get: async <Row extends object>(sql: string, params: readonly SqlValue[] = []) => this.prepare(sql).get(...params) as Row | undefined,
      run: async (sql, params = []) => ({ changes: this.prepare(sql).run(...params).changes }),
      exec: async (sql) => void this.connection.exec(sql),
    };
  }

  async all<Row extends object>(sql: string, params?: readonly SqlValue[]): Promise<Row[]> {
    while (this.busy) await this.busy;
    return this.direct.all<Row>(sql, params);
  }

  async get<Row extends object>(sql: string, params?: readonly SqlValue[]): Promise<Row | undefined> {
    while (this.busy) await this.busy;
    return this.direct.get<Row>(sql, params);
  }

  async run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    while (this.busy) await this.busy;
    return this.direct.run(sql, params);
  }

  async exec(sql: string): Promise<void> {
    while (this.busy) await this.busy;
    return this.direct.exec(sql);
  }

  allInOwnTransaction<Row extends object>(sql: string, params?: readonly SqlValue[]): Promise<Row[]> {
    return this.transaction((tx) => tx.all<Row>(sql, params));
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    while (this.busy) await this.busy;
    let done!: () => void;
    this.busy = new Promise((resolve) => (done = resolve));
    try {
      await this.beginImmediate();
      try {
        const result = await fn(this.direct);
        this.connection.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.connection.inTransaction) this.connection.exec('ROLLBACK');
        throw err;
      }
    } finally {
      this.busy = undefined;
      done();
    }
  }

  /**
   * BEGIN IMMEDIATE: takes the write lock now, not at the first write. While another process holds it (another
   * worker, the background worker), the attempt is made again after yielding, not in SQLite's busy handler, which
   * sleeps the thread 1, 2, 5… ms at a time: a manifest PUT that met another process's 0.1 ms transaction waited a
   * whole millisecond, and so did every other request of its worker. Gives up, as the handler did, after the
   * connection's busy timeout.
   */
  private async beginImmediate(): Promise<void> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      // A PRAGMA takes effect when it is prepared, so it goes in the same exec: one call, ~1 µs more than BEGIN alone
      // (pragma() twice cost 8 µs a transaction).
      try {
        this.connection.exec('PRAGMA busy_timeout = 0; BEGIN IMMEDIATE');
        return;
      } catch (err) {
        if ((err as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() - started >= this.busyTimeoutMs) throw err;
      } finally {
        this.connection.exec(`PRAGMA busy_timeout = ${this.busyTimeoutMs}`);
      }
      // The first retries as soon as this process's queued work has run (a write lock is usually held for well under
      // a millisecond), then every 1-2 ms: a retry costs under 10 µs, and the wait ends within 2 ms of the lock's release.
      await (attempt < 4
        ? new Promise((resolve) => setImmediate(resolve))
        : new Promise((resolve) => setTimeout(resolve, attempt === 4 ? 1 : 2)));
    }
  }

  async withLock<T>(_key: number, fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  async ping(): Promise<void> {
    // Reads the schema page: the file itself, not just the open handle.
    await this.get('SELECT count(*) AS n FROM sqlite_master');
  }

  async close(): Promise<void> {
    while (this.busy) await this.busy;
    await this.checkpointer?.stop();
    this.connection.close();
  }

  private prepare(sql: string): BetterSqlite3.Statement<unknown[], unknown> {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.connection.prepare<unknown[], unknown>(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }
}
