import type Database from 'better-sqlite3';

/**
 * The legacy SQLite migrations (`schema_migrations`). Every store has moved
 * onto src/persistence with its tables, taking its migrations to the
 * persistence runner, which adopts them on databases that recorded them here
 * (see src/persistence/migration-runner.ts); nothing is left to run. The
 * runner stays for files a released Berth made: it keeps `schema_migrations`,
 * whose rows are what the adoption reads, and the numbers below stay reserved.
 */
const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  // Version 1 ('registry index') moved with its tables: the index's to the metadata store
  // (src/metadata/sql/metadata-migrations.ts), upload_sessions to the session store
  // (src/sessions/sql/upload-session-migrations.ts); both adopt it. Never reuse the number 1.
  // Version 2 ('identity and permissions') moved with its tables to the identity stores
  // (src/auth/sql/*-migrations.ts, which adopt it): never reuse the number 2.
  // Version 3 ('upload session hash state') moved to the session store
  // (src/sessions/sql/upload-session-migrations.ts, which adopts it): never reuse the number 3.
  // Version 4 ('failed login windows') moved with its table to the login-failure store
  // (src/auth/sql/login-failure-migrations.ts, which adopts it): never reuse the number 4.
];

/** Applies the pending migrations up to `upTo` (all by default; tests build each earlier schema with it). */
export function migrate(db: Database.Database, upTo = Number.POSITIVE_INFINITY): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version));
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const isApplied = db.prepare<[number]>('SELECT 1 FROM schema_migrations WHERE version = ?');
  let current = 0;
  for (const m of MIGRATIONS) {
    if (m.version > upTo) break;
    if (!applied.has(m.version)) {
      db.transaction(() => {
        // Another process sharing the file (a replica, a cluster worker) may have applied it meanwhile.
        if (isApplied.get(m.version)) return;
        db.exec(m.sql);
        record.run(m.version, m.name, Date.now());
      }).immediate();
    }
    current = m.version;
  }
  return current;
}
