import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { migrate as migrateLegacy } from '../metadata/sqlite/migrations';

/**
 * Opens the embedded SQLite file (`berth.db` in the data directory). WAL
 * lets readers run beside the single writer, and lets several Berth
 * processes on one host share the file.
 *
 * It still runs the legacy runner for the stores that have not moved onto
 * the persistence runner yet (identities); the moved stores' tables come
 * from `migrate` (src/persistence/migration-runner.ts), run by whoever
 * builds those stores.
 */
export function openDatabase(file: string): Database.Database {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrateLegacy(db);
  return db;
}
