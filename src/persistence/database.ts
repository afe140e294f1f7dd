/**
 * The one way stores reach their database, SQLite or PostgreSQL.
 *
 * SQL is written ONCE for both dialects, in a portable subset (`?`
 * placeholders, `INSERT … ON CONFLICT … DO UPDATE`, `CASE`, `RETURNING`, no
 * dialect functions); only migrations (DDL: `WITHOUT ROWID`, `BIGINT`,
 * `BYTEA`…) may differ per dialect. Why: one text per query means one
 * behaviour, which the contract suites (run on both databases) pin down;
 * two hand-written copies drift, and a query builder costs a dependency
 * and a layer on the hot path for the few queries a store has. A query a
 * dialect needs differently is the exception, chosen by `db.dialect` in the
 * store and covered by its contract suite on both. The one so far: a manifest push on
 * PostgreSQL (PUT_MANIFEST_ON_POSTGRES), one statement where the portable path takes one per
 * step, because on PostgreSQL every statement is a round trip to another process (the
 * 1000-tag bench row went from 0.2-0.4× to 0.9× of SQLite's time with it).
 *
 * Cost (spec/persistence/query-overhead.bench.js: a primary-key SELECT on an
 * in-memory SQLite, Node 20, best of 5 × 200k on a shared 2-core machine):
 * better-sqlite3 called synchronously 0.76–0.80 µs, awaited as an async store
 * method 0.91–1.10 µs, through this interface 1.10–1.26 µs: +0.16–0.19 µs
 * over the awaited call, +0.3–0.5 µs over the bare one (a prepared-statement
 * cache lookup and a promise). A manifest GET at ~7.5k req/s spends ~133 µs;
 * even 3 queries through the layer add ~1%.
 */

/** What a parameter may be: the types both drivers bind the same way. */
export type SqlValue = string | number | bigint | null | Buffer;

/** `sqlite` (better-sqlite3, the embedded default) or `postgres` (node-postgres). */
export type Dialect = 'sqlite' | 'postgres';

/** Queries, inside or outside a transaction. Rows are typed by the caller, as the SQL names their columns. */
export interface Queryable {
  /** Every row of a query. */
  all<Row extends object>(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** The first row, or undefined. */
  get<Row extends object>(sql: string, params?: readonly SqlValue[]): Promise<Row | undefined>;
  /** A statement without rows; `changes` is how many rows it touched. */
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
  /** Several statements without parameters (migrations' DDL). */
  exec(sql: string): Promise<void>;
}

export interface TransactionOptions {
  /**
   * Names of the rows this transaction writes that many concurrent ones write too (an owner's usage
   * counter, a blob's candidacy). Transactions sharing a name take turns before they begin, where
   * SERIALIZABLE would let them all begin, abort all but one, and retry the rest: with 36 pushes of one
   * owner's shared layers over three replicas on a loaded machine, that retrying outlasted its 3 s bound
   * in 4 runs of 4 (503s). SQLite serialises every writer already and ignores it.
   */
  queueOn?: readonly string[];
}

export interface Database extends Queryable {
  readonly dialect: Dialect;
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back
   * when it throws. Writers are serialised (SQLite BEGIN IMMEDIATE;
   * PostgreSQL SERIALIZABLE, retried on a serialization failure), so `fn`
   * may run more than once on PostgreSQL: it must do nothing but queries on `tx`.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * One statement as a transaction of its own, with `transaction`'s isolation and retries, in one
   * round trip (no BEGIN and COMMIT on PostgreSQL): for a write a store has folded into one statement.
   */
  allInOwnTransaction<Row extends object>(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /**
   * Runs `fn` holding a lock every process on this database respects
   * (PostgreSQL: a session advisory lock on `key`). On SQLite there is no
   * session lock: callers make each step one transaction, and SQLite's
   * write lock serialises them.
   */
  withLock<T>(key: number, fn: () => Promise<T>): Promise<T>;
  /** A cheap round trip to the database itself, for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
