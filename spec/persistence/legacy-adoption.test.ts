import BetterSqlite3 from 'better-sqlite3';
import { IDENTITY_MIGRATIONS } from '../../src/auth/sql/identity-migrations';
import { LOGIN_FAILURE_MIGRATIONS } from '../../src/auth/sql/login-failure-migrations';
import { sqlIdentityStores } from '../../src/auth/sql/sql-identity-stores';
import { SqlLoginFailureStore } from '../../src/auth/sql/sql-login-failure-store';
import { METADATA_MIGRATIONS } from '../../src/metadata/sql/metadata-migrations';
import { SqlMetadataIndex } from '../../src/metadata/sql/sql-metadata-index';
import { migrate as migrateLegacy } from '../../src/metadata/sqlite/migrations';
import type { Migration, StoreMigrations } from '../../src/persistence/migration';
import type { Database } from '../../src/persistence/database';
import { migrate } from '../../src/persistence/migration-runner';
import { NameTakenError } from '../../src/persistence/unique-violation';
import { SqliteDatabase } from '../../src/persistence/sqlite-database';
import { SqlUploadSessionStore } from '../../src/sessions/sql/sql-upload-session-store';
import { UPLOAD_SESSION_MIGRATIONS } from '../../src/sessions/sql/upload-session-migrations';
import { createTestDatabase, DIALECTS } from './support/test-databases';
import { STORE_MIGRATIONS } from '../../src/composition-root';

/**
 * A Berth SQLite file from before the stores moved onto src/persistence,
 * opened by today's Berth: the legacy runner (nothing left in it but its
 * record) and then the persistence runner, exactly as src/composition-root.ts opens it.
 * Built at every released legacy version.
 */
const RELEASED_LEGACY_VERSIONS = [0, 1, 2, 3, 4];

/** Every store, as the composition root migrates them. */
const STORES = STORE_MIGRATIONS;

function sqliteText(m: Migration): string {
  return typeof m.sql === 'string' ? m.sql : m.sql.sqlite;
}

/**
 * The released schema at `version`, as the legacy runner left it. Every
 * version moved to its stores, whose SQLite texts are the released ones
 * unchanged (version 1 was the index's tables and upload_sessions together,
 * version 2 the identity stores' tables), recorded as the legacy runner recorded them.
 */
function releasedSchema(db: BetterSqlite3.Database, version: number): void {
  const record = (v: number, name: string) =>
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(v, name, Date.now());
  migrateLegacy(db);
  if (version < 1) return;
  db.exec(sqliteText(METADATA_MIGRATIONS.migrations[0]!) + sqliteText(UPLOAD_SESSION_MIGRATIONS.migrations[0]!));
  record(1, 'registry index');
  if (version < 2) return;
  for (const store of IDENTITY_MIGRATIONS) db.exec(sqliteText(store.migrations[0]!));
  record(2, 'identity and permissions');
  if (version < 3) return;
  db.exec(sqliteText(UPLOAD_SESSION_MIGRATIONS.migrations[1]!));
  record(3, 'upload session hash state');
  if (version < 4) return;
  db.exec(sqliteText(LOGIN_FAILURE_MIGRATIONS.migrations[0]!));
  record(4, 'failed login windows');
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

/** What the persistence runner should record for `store` when opening a file at legacy `from`. */
function expectedRecords(store: StoreMigrations, from: number): Array<{ version: number; name: string }> {
  return store.migrations.map((m) => ({
    version: m.version,
    name: m.legacyVersion !== undefined && m.legacyVersion <= from ? `${m.name} (adopted from legacy version ${m.legacyVersion})` : m.name,
  }));
}

describe('adopting a SQLite database made by the legacy migrations', () => {
  for (const from of RELEASED_LEGACY_VERSIONS) {
    it(`upgrades one at legacy version ${from} without re-running or skipping a change, keeping its data`, async () => {
      const connection = new BetterSqlite3(':memory:');
      connection.pragma('foreign_keys = ON');
      releasedSchema(connection, from);
      if (from >= 1) {
        connection.prepare('INSERT INTO repositories (id, name, created_at) VALUES (?, ?, ?)').run(1, 'library/alpine', 5);
        connection.prepare('INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, ?)').run('sha256:aa', 7, 5);
        connection.prepare('INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES (?, ?, ?)').run(1, 'sha256:aa', 5);
        connection
          .prepare('INSERT INTO upload_sessions (id, repository, offset, started_at, updated_at) VALUES (?, ?, ?, ?, ?)')
          .run('u1', 'library/alpine', 42, 5, 6);
      }
      if (from >= 2) writeIdentityRows(connection);
      if (from >= 4)
        connection.prepare('INSERT INTO login_failures (key, failures, started_at) VALUES (?, ?, ?)').run('user:alice', 3, 1_000);

      // Today's start: the legacy runner, then the persistence runner (a re-run of an adopted CREATE TABLE or ALTER would throw).
      migrateLegacy(connection);
      const db = new SqliteDatabase(connection);
      await migrate(db, STORES);

      const legacy = connection.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
      expect(legacy).toEqual([1, 2, 3, 4].filter((v) => v <= from));
      for (const store of STORES) {
        const recorded = await db.all('SELECT version, name FROM persistence_migrations WHERE store = ? ORDER BY version', [store.store]);
        expect(recorded).toEqual(expectedRecords(store, from));
      }

      // The data survives, and each store works on its table whichever runner made it.
      const index = new SqlMetadataIndex(db);
      expect(await index.linkedBlobSize('library/alpine', 'sha256:aa')).toBe(from >= 1 ? 7 : null);
      await index.linkBlob('library/busybox', 'sha256:bb', 9);
      expect(await index.listRepositories({ limit: 10 })).toEqual(from >= 1 ? ['library/alpine', 'library/busybox'] : ['library/busybox']);
      const sessions = new SqlUploadSessionStore(db);
      expect(await sessions.get('u1')).toEqual(
        from >= 1 ? { id: 'u1', repository: 'library/alpine', offset: 42, startedAt: 5, updatedAt: 6 } : null,
      );
      await sessions.create({ id: 'u2', repository: 'r', offset: 0, startedAt: 1, updatedAt: 1 });
      expect(await sessions.setOffset('u2', 10, 2, 'state-at-10')).toBe(true);
      expect(await sessions.get('u2')).toEqual({
        id: 'u2',
        repository: 'r',
        offset: 10,
        startedAt: 1,
        updatedAt: 2,
        hashState: 'state-at-10',
      });
      const failures = new SqlLoginFailureStore(db);
      expect(await failures.get('user:alice')).toEqual(from >= 4 ? { failures: 3, startedAt: 1_000 } : null);
      await failures.recordFailure('user:bob', 2_000, 60_000);
      expect(await failures.get('user:bob')).toEqual({ failures: 1, startedAt: 2_000 });
      await expectIdentitiesKept(db, from >= 2);
      await db.close();
    });
  }

  it('on PostgreSQL (never had the legacy runner) creates every table from nothing', async () => {
    const t = await createTestDatabase('postgres');
    try {
      await migrate(t.db, STORES);
      for (const store of STORES) {
        const recorded = await t.db.all('SELECT version, name FROM persistence_migrations WHERE store = ? ORDER BY version', [store.store]);
        expect(recorded).toEqual(expectedRecords(store, 0));
      }
      await expectIdentitiesKept(t.db, false);
    } finally {
      await t.dispose();
    }
  });
});

/** Each store's own versions: a database at any earlier one (a Berth released between them) reaches the newest, data kept. */
describe('upgrading each store from every earlier version', () => {
  for (const dialect of DIALECTS) {
    for (const store of [METADATA_MIGRATIONS, UPLOAD_SESSION_MIGRATIONS]) {
      for (let from = 0; from < store.migrations.length; from++) {
        it(`${store.store} on ${dialect}: from version ${from} to ${store.migrations.length}`, async () => {
          const t = await createTestDatabase(dialect);
          try {
            await migrate(t.db, [{ store: store.store, migrations: store.migrations.slice(0, from) }]);
            if (store === UPLOAD_SESSION_MIGRATIONS && from >= 1) {
              await t.db.run('INSERT INTO upload_sessions (id, repository, "offset", started_at, updated_at) VALUES (?, ?, ?, ?, ?)', [
                'u1',
                'r',
                3,
                1,
                2,
              ]);
            }
            const versions = await migrate(t.db, [store]);
            expect(versions.get(store.store)).toBe(store.migrations.length);
            const recorded = await t.db.all<{ version: number }>(
              'SELECT version FROM persistence_migrations WHERE store = ? ORDER BY version',
              [store.store],
            );
            expect(recorded.map((r) => r.version)).toEqual(store.migrations.map((m) => m.version));
            if (store === UPLOAD_SESSION_MIGRATIONS) {
              const sessions = new SqlUploadSessionStore(t.db);
              if (from >= 1) expect(await sessions.get('u1')).toEqual({ id: 'u1', repository: 'r', offset: 3, startedAt: 1, updatedAt: 2 });
              await sessions.create({ id: 'u2', repository: 'r', offset: 0, startedAt: 1, updatedAt: 1, hashState: 'h' });
              expect((await sessions.get('u2'))?.hashState).toBe('h');
            } else {
              const index = new SqlMetadataIndex(t.db);
              await index.linkBlob('r', 'sha256:aa', 1);
              expect(await index.listRepositories({ limit: 5 })).toEqual(['r']);
            }
          } finally {
            await t.dispose();
          }
        });
      }
    }
  }
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
