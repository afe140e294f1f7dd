import BetterSqlite3 from 'better-sqlite3';
import { LOGIN_FAILURE_MIGRATIONS } from '../../src/auth/sql/login-failure-migrations';
import { SqlLoginFailureStore } from '../../src/auth/sql/sql-login-failure-store';
import { migrate as migrateLegacy } from '../../src/metadata/sqlite/migrations';
import { migrate } from '../../src/persistence/migration-runner';
import { SqliteDatabase } from '../../src/persistence/sqlite-database';
import { createTestDatabase } from './support/test-databases';

/**
 * A Berth SQLite file from before the stores moved onto src/persistence,
 * opened by today's Berth: the legacy runner (still owning the index,
 * upload sessions and identities) and then the persistence runner, exactly
 * as src/composition-root.ts opens it. Built at every released legacy version.
 */
const RELEASED_LEGACY_VERSIONS = [0, 1, 2, 3, 4];

/**
 * The released schema at `version`. Versions 1..3 are still in the legacy
 * file; version 4 moved to the login-failure store, whose SQLite text is the
 * released one unchanged, recorded as the legacy runner recorded it.
 */
function releasedSchema(db: BetterSqlite3.Database, version: number): void {
  migrateLegacy(db, Math.min(version, 3));
  if (version < 4) return;
  const v4 = LOGIN_FAILURE_MIGRATIONS.migrations[0]!.sql;
  db.exec(typeof v4 === 'string' ? v4 : v4.sqlite);
  db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(4, 'failed login windows', Date.now());
}

describe('adopting a SQLite database made by the legacy migrations', () => {
  for (const from of RELEASED_LEGACY_VERSIONS) {
    it(`upgrades one at legacy version ${from} without re-running or skipping a change, keeping its data`, async () => {
      const connection = new BetterSqlite3(':memory:');
      releasedSchema(connection, from);
      if (from >= 1) connection.prepare('INSERT INTO repositories (id, name, created_at) VALUES (?, ?, ?)').run(1, 'library/alpine', 5);
      if (from >= 4)
        connection.prepare('INSERT INTO login_failures (key, failures, started_at) VALUES (?, ?, ?)').run('user:alice', 3, 1_000);

      // Today's start: the legacy runner, then the persistence runner (a re-run of version 4's CREATE TABLE would throw).
      migrateLegacy(connection);
      const db = new SqliteDatabase(connection);
      await migrate(db, [LOGIN_FAILURE_MIGRATIONS]);

      const legacy = connection.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
      expect(legacy).toEqual(from >= 4 ? [1, 2, 3, 4] : [1, 2, 3]);
      const moved = await db.all<{ version: number; name: string }>(
        "SELECT version, name FROM persistence_migrations WHERE store = 'login-failures'",
      );
      expect(moved).toEqual([
        { version: 1, name: from >= 4 ? 'failed login windows (adopted from legacy version 4)' : 'failed login windows' },
      ]);
      if (from >= 1) expect(connection.prepare('SELECT name FROM repositories').pluck().all()).toEqual(['library/alpine']);
      const store = new SqlLoginFailureStore(db);
      expect(await store.get('user:alice')).toEqual(from >= 4 ? { failures: 3, startedAt: 1_000 } : null);
      // The table works whichever runner made it.
      await store.recordFailure('user:bob', 2_000, 60_000);
      expect(await store.get('user:bob')).toEqual({ failures: 1, startedAt: 2_000 });
      await db.close();
    });
  }

  it('on PostgreSQL (never had the legacy runner) creates the table from nothing', async () => {
    const t = await createTestDatabase('postgres');
    try {
      await migrate(t.db, [LOGIN_FAILURE_MIGRATIONS]);
      expect(await t.db.all("SELECT version, name FROM persistence_migrations WHERE store = 'login-failures'")).toEqual([
        { version: 1, name: 'failed login windows' },
      ]);
    } finally {
      await t.dispose();
    }
  });
});
