import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { migrate as migrateLegacy } from '../metadata/sqlite/migrations';

/**
 * Opens the embedded SQLite file (`berth.db` in the data directory). WAL
 * lets readers run beside the single writer, and lets several Berth
 * processes on one host share the file.
 *
 * It runs the legacy runner, which has nothing left to apply but keeps
 * `schema_migrations`, what the persistence runner reads to adopt the
 * changes a released Berth made; every store's tables come from `migrate`
 * (src/persistence/migration-runner.ts), run by the composition root.
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
