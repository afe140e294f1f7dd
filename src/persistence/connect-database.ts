import type { Database } from './database';
import { SqliteDatabase } from './sqlite-database';
import { openDatabase } from './sqlite-file';

export interface DatabaseOptions {
  /** `postgres://…` (DATABASE_URL): PostgreSQL; unset: the embedded SQLite file. */
  url?: string;
  /**
   * The embedded SQLite file (`berth.db` in BERTH_DATA), opened only when no `url` is given: a host
   * of a PostgreSQL deployment keeps no database file of its own.
   */
  sqliteFile: string;
  /** A pooled PostgreSQL connection failed while idle; the pool replaces it. */
  onIdleError?(err: Error): void;
  /**
   * Checkpoint the SQLite file's WAL on a thread, off the requests' commits (wal-checkpointer.ts): for a
   * serving process. A CLI command keeps SQLite's automatic checkpoint. `onBackgroundError` hears if it stops.
   */
  checkpointInBackground?: boolean;
  onBackgroundError?(err: Error): void;
}

/** The database the configuration names; closing it closes its connections (the SQLite file's too). */
export async function connectDatabase(options: DatabaseOptions): Promise<Database> {
  if (!options.url) {
    const checkpointFile = options.checkpointInBackground && options.sqliteFile !== ':memory:' ? options.sqliteFile : undefined;
    return new SqliteDatabase(openDatabase(options.sqliteFile), {
      checkpointFile,
      onCheckpointFailure: (err) => options.onBackgroundError?.(err),
    });
  }
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
