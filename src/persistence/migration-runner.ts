import type { Database, Queryable } from './database';
import type { Migration, StoreMigrations } from './migration';

/**
 * Applies each registered store's pending migrations at start, one
 * transaction each, recorded per store in `persistence_migrations`.
 *
 * Several replicas may start at once: on PostgreSQL the whole run holds an
 * advisory lock; on SQLite each migration is one BEGIN IMMEDIATE
 * transaction that re-checks, under the write lock, whether another process
 * applied it meanwhile.
 *
 * Coexistence with the legacy runner (`src/metadata/sqlite/migrations.ts`,
 * versions 1..4 in `schema_migrations`, SQLite only): every store has moved
 * here, taking its legacy DDL with it (deleted from the legacy list, its
 * legacy version number never reused) and naming that legacy version in
 * `legacyVersion`: a database that
 * recorded it adopts the change instead of running it again, and one that
 * did not runs it here, so an upgrade neither repeats nor skips a change.
 */
export async function migrate(db: Database, stores: readonly StoreMigrations[]): Promise<Map<string, number>> {
  for (const s of stores) checkSequence(s);
  const versions = new Map<string, number>();
  await db.withLock(MIGRATION_LOCK, async () => {
    await db.exec(
      'CREATE TABLE IF NOT EXISTS persistence_migrations (store TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, applied_at BIGINT NOT NULL, PRIMARY KEY (store, version))',
    );
    for (const { store, migrations } of stores) {
      await refuseUnknownVersions(db, store, migrations.length);
      for (const m of migrations) await db.transaction((tx) => apply(db, tx, store, m));
      versions.set(store, migrations.length);
    }
  });
  return versions;
}

/** The advisory lock key every Berth process takes to migrate ('berth' in ASCII). */
export const MIGRATION_LOCK = 0x6265727468;

async function apply(db: Database, tx: Queryable, store: string, m: Migration): Promise<void> {
  if (await tx.get('SELECT 1 AS one FROM persistence_migrations WHERE store = ? AND version = ?', [store, m.version])) return;
  const adopted = m.legacyVersion !== undefined && (await legacyApplied(db, tx, m.legacyVersion));
  if (!adopted) await tx.exec(typeof m.sql === 'string' ? m.sql : m.sql[db.dialect]);
  await tx.run('INSERT INTO persistence_migrations (store, version, name, applied_at) VALUES (?, ?, ?, ?)', [
    store,
    m.version,
    adopted ? `${m.name} (adopted from legacy version ${m.legacyVersion})` : m.name,
    Date.now(),
  ]);
}

/** Whether the legacy SQLite runner recorded `version`; PostgreSQL databases never had it. */
async function legacyApplied(db: Database, tx: Queryable, version: number): Promise<boolean> {
  if (db.dialect !== 'sqlite') return false;
  const table = await tx.get("SELECT 1 AS one FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
  return table !== undefined && (await tx.get('SELECT 1 AS one FROM schema_migrations WHERE version = ?', [version])) !== undefined;
}

/** Forward only: a database a newer Berth migrated is refused rather than half understood. */
async function refuseUnknownVersions(db: Database, store: string, known: number): Promise<void> {
  const row = await db.get<{ newest: number | null }>('SELECT max(version) AS newest FROM persistence_migrations WHERE store = ?', [store]);
  if (row?.newest != null && row.newest > known) {
    throw new Error(`the database holds migration ${row.newest} of ${store}, this Berth knows ${known}: a newer Berth migrated it`);
  }
}

function checkSequence({ store, migrations }: StoreMigrations): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`${store}: migration ${m.name} has version ${m.version}, expected ${i + 1}`);
  });
}
