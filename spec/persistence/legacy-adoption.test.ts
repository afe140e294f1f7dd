import BetterSqlite3 from 'better-sqlite3';
import { IDENTITY_MIGRATIONS } from '../../src/auth/sql/identity-migrations';
import { LOGIN_FAILURE_MIGRATIONS } from '../../src/auth/sql/login-failure-migrations';
import { sqlIdentityStores } from '../../src/auth/sql/sql-identity-stores';
import { SqlLoginFailureStore } from '../../src/auth/sql/sql-login-failure-store';
import { migrate as migrateLegacy } from '../../src/metadata/sqlite/migrations';
import type { StoreMigrations } from '../../src/persistence/migration';
import { migrate } from '../../src/persistence/migration-runner';
import { SqliteDatabase } from '../../src/persistence/sqlite-database';
import type { Database } from '../../src/persistence/database';
import { NameTakenError } from '../../src/persistence/unique-violation';
import { createTestDatabase } from './support/test-databases';

/**
 * A Berth SQLite file from before the stores moved onto src/persistence,
 * opened by today's Berth: the legacy runner (still owning the index,
 * upload sessions and identities) and then the persistence runner, exactly
 * as src/composition-root.ts opens it. Built at every released legacy version.
 */
const MOVED_STORES: readonly StoreMigrations[] = [LOGIN_FAILURE_MIGRATIONS, ...IDENTITY_MIGRATIONS];
const RELEASED_LEGACY_VERSIONS = [0, 1, 2, 3, 4];

/**
 * The released schema at `version`. Versions 1 and 3 are still in the legacy
 * file; version 2 moved to the identity stores and version 4 to the
 * login-failure store, whose SQLite texts are the released ones unchanged,
 * recorded as the legacy runner recorded them.
 */
function releasedSchema(db: BetterSqlite3.Database, version: number): void {
  migrateLegacy(db, Math.min(version, 1));
  if (version >= 2) {
    for (const store of IDENTITY_MIGRATIONS) db.exec(sqliteText(store));
    recordLegacy(db, 2, 'identity and permissions');
  }
  if (version >= 3) migrateLegacy(db, 3);
  if (version >= 4) {
    db.exec(sqliteText(LOGIN_FAILURE_MIGRATIONS));
    recordLegacy(db, 4, 'failed login windows');
  }
}

function sqliteText(store: StoreMigrations): string {
  const sql = store.migrations[0]!.sql;
  return typeof sql === 'string' ? sql : sql.sqlite;
}

function recordLegacy(db: BetterSqlite3.Database, version: number, name: string): void {
  db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(version, name, Date.now());
}

/** Identity rows as a Berth at legacy version 2 wrote them: a user owning a repository, a token for it, a key. */
function writeIdentityRows(db: BetterSqlite3.Database): void {
  db.prepare("INSERT INTO accounts (id, name, kind, password_hash, is_admin, created_at) VALUES (7, 'alice', 'user', 'hash', 1, 5)").run();
  db.prepare("INSERT INTO source_repositories (id, owner_id, name, visibility, created_at) VALUES (3, 7, 'app', 'private', 6)").run();
  db.prepare(
    "INSERT INTO packages (name, owner_id, source_repository_id, visibility, created_at) VALUES ('alice/app', 7, 3, 'private', 7)",
  ).run();
  db.prepare(
    "INSERT INTO access_tokens (id, kind, user_id, repository_id, name, secret_hash, scopes, created_at) VALUES (9, 'ci', 7, 3, 'ci', 'secret-hash', '[\"read:packages\"]', 8)",
  ).run();
  db.prepare(
    "INSERT INTO signing_keys (kid, algorithm, private_pem, public_pem, created_at) VALUES ('k1', 'ES256', 'priv', 'pub', 9)",
  ).run();
}

describe('adopting a SQLite database made by the legacy migrations', () => {
  for (const from of RELEASED_LEGACY_VERSIONS) {
    it(`upgrades one at legacy version ${from} without re-running or skipping a change, keeping its data`, async () => {
      const connection = new BetterSqlite3(':memory:');
      connection.pragma('foreign_keys = ON');
      releasedSchema(connection, from);
      if (from >= 1) connection.prepare('INSERT INTO repositories (id, name, created_at) VALUES (?, ?, ?)').run(1, 'library/alpine', 5);
      if (from >= 2) writeIdentityRows(connection);
      if (from >= 4)
        connection.prepare('INSERT INTO login_failures (key, failures, started_at) VALUES (?, ?, ?)').run('user:alice', 3, 1_000);

      // Today's start: the legacy runner, then the persistence runner (a re-run of a moved CREATE TABLE would throw).
      migrateLegacy(connection);
      const db = new SqliteDatabase(connection);
      await migrate(db, MOVED_STORES);

      const legacy = connection.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
      expect(legacy).toEqual([1, ...(from >= 2 ? [2] : []), 3, ...(from >= 4 ? [4] : [])]);
      for (const store of IDENTITY_MIGRATIONS) {
        const applied = await db.all('SELECT version, name FROM persistence_migrations WHERE store = ?', [store.store]);
        const name = store.migrations[0]!.name;
        expect(applied).toEqual([{ version: 1, name: from >= 2 ? `${name} (adopted from legacy version 2)` : name }]);
      }
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
      await expectIdentitiesKept(db, from >= 2);
      await db.close();
    });
  }

  it('on PostgreSQL (never had the legacy runner) creates the identity tables from nothing', async () => {
    const t = await createTestDatabase('postgres');
    try {
      await migrate(t.db, MOVED_STORES);
      for (const store of IDENTITY_MIGRATIONS) {
        const applied = await t.db.all('SELECT version, name FROM persistence_migrations WHERE store = ?', [store.store]);
        expect(applied).toEqual([{ version: 1, name: store.migrations[0]!.name }]);
      }
      await expectIdentitiesKept(t.db, false);
    } finally {
      await t.dispose();
    }
  });

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

/** The identity stores read what legacy version 2 wrote (when it did), and work: new rows, name clashes, cascades. */
async function expectIdentitiesKept(db: Database, hadRows: boolean): Promise<void> {
  const stores = sqlIdentityStores(db);
  if (hadRows) {
    expect(await stores.accounts.accountByName('alice')).toEqual({
      id: 7,
      name: 'alice',
      kind: 'user',
      passwordHash: 'hash',
      isAdmin: true,
      createdAt: 5,
    });
    expect(await stores.repositories.repository('alice', 'app')).toMatchObject({ id: 3, ownerName: 'alice', visibility: 'private' });
    expect(await stores.packages.package('alice/app')).toMatchObject({ sourceRepositoryId: 3 });
    expect(await stores.tokens.accessTokenBySecret('secret-hash')).toMatchObject({
      id: 9,
      kind: 'ci',
      repositoryId: 3,
      scopes: ['read:packages'],
    });
    expect((await stores.signingKeys.signingKeys()).map((k) => k.kid)).toEqual(['k1']);
    await expect(stores.accounts.createAccount('alice', 'user', null, false)).rejects.toThrow(NameTakenError);
  }
  const bob = await stores.accounts.createAccount('bob', 'user', null, false);
  const repo = await stores.repositories.createRepository(bob.id, 'tool', 'public');
  const token = await stores.tokens.createAccessToken({
    kind: 'ci',
    userId: bob.id,
    repositoryId: repo.id,
    name: 'ci',
    scopes: [],
    createdAt: 1,
    expiresAt: null,
    secretHash: 'bob-secret',
  });
  // The foreign keys came along: deleting the repository takes its CI token.
  await stores.repositories.deleteRepository(repo.id);
  expect(await stores.tokens.accessToken(token.id)).toBeNull();
}
