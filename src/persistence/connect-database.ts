import type BetterSqlite3 from 'better-sqlite3';
import type { Database } from './database';
import { SqliteDatabase } from './sqlite-database';

export interface DatabaseOptions {
  /** `postgres://…` (DATABASE_URL): PostgreSQL; unset: the embedded SQLite file. */
  url?: string;
  /** The embedded SQLite connection (the file in BERTH_DATA), used when no `url` is given. */
  sqlite: BetterSqlite3.Database;
  /** A pooled PostgreSQL connection failed while idle; the pool replaces it. */
  onIdleError?(err: Error): void;
}

/** The database the configuration names. */
export async function connectDatabase(options: DatabaseOptions): Promise<Database> {
  if (!options.url) return new SqliteDatabase(options.sqlite);
  // Loaded only when configured: the embedded default never needs the driver.
  const { PostgresDatabase } = await import('./postgres-database');
  const db = new PostgresDatabase({ url: options.url, onIdleError: (err) => options.onIdleError?.(err) });
  try {
    await db.ping();
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
