import BetterSqlite3 from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import type { Database, Dialect } from '../../../src/persistence/database';
import { PostgresDatabase } from '../../../src/persistence/postgres-database';
import { SqliteDatabase } from '../../../src/persistence/sqlite-database';
import { scopedUrl } from '../../support/test-backend';

/**
 * Fresh, empty databases of each dialect for a test. SQLite: an in-memory
 * file. PostgreSQL: a new schema on the server the jest global setup started
 * (DATABASE_URL; never skipped: without it the run fails), reached through
 * a pool whose search_path is that schema, dropped again by `dispose`.
 */
export const DIALECTS: readonly Dialect[] = ['sqlite', 'postgres'];

export interface TestDatabase {
  db: Database;
  /** PostgreSQL: a URL to this database (its schema), for a pool with options of the test's own. */
  url?: string;
  /** Another connection (pool) to the same database, as a second replica would have. */
  another(): Promise<Database>;
  dispose(): Promise<void>;
}

export function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: the jest global setup (spec/support/services.ts) starts PostgreSQL');
  return url;
}

export async function createTestDatabase(dialect: Dialect, sqliteFile = ':memory:'): Promise<TestDatabase> {
  return dialect === 'sqlite' ? sqliteDatabase(sqliteFile) : postgresDatabase();
}

function sqliteDatabase(file: string): TestDatabase {
  const open = () => {
    const connection = new BetterSqlite3(file);
    connection.pragma('busy_timeout = 5000');
    return new SqliteDatabase(connection);
  };
  const opened: Database[] = [open()];
  return {
    db: opened[0]!,
    async another() {
      if (file === ':memory:') throw new Error('an in-memory SQLite database has one connection; pass a file');
      const db = open();
      opened.push(db);
      return db;
    },
    async dispose() {
      for (const db of opened) await db.close();
    },
  };
}

async function postgresDatabase(): Promise<TestDatabase> {
  const url = databaseUrl();
  const schema = `spec_${randomBytes(6).toString('hex')}`;
  const admin = new Pool({ connectionString: url, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const scoped = scopedUrl(url, schema);
  const opened: Database[] = [new PostgresDatabase({ url: scoped, maxConnections: 4 })];
  return {
    db: opened[0]!,
    url: scoped,
    async another() {
      const db = new PostgresDatabase({ url: scoped, maxConnections: 4 });
      opened.push(db);
      return db;
    },
    async dispose() {
      for (const db of opened) await db.close();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}
