import type Database from 'better-sqlite3';

/**
 * The legacy SQLite migrations, applied in order inside one transaction each,
 * for the stores not yet moved onto src/persistence (metadata index, upload
 * sessions). Never edit a released migration; append a new one.
 * A store that moves takes its migrations to the persistence runner, which
 * adopts them on databases that recorded them here (see
 * src/persistence/migration-runner.ts).
 */
const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'registry index',
    sql: `
      CREATE TABLE repositories (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
      );
      -- Blobs committed to storage, once each, whatever repositories link them.
      CREATE TABLE blobs (
        digest TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      -- Repository-scoped access: a blob is served through a repository only if linked here.
      CREATE TABLE repository_blobs (
        repository_id INTEGER NOT NULL REFERENCES repositories(id),
        digest TEXT NOT NULL REFERENCES blobs(digest),
        created_at INTEGER NOT NULL,
        PRIMARY KEY (repository_id, digest)
      ) WITHOUT ROWID;
      CREATE INDEX repository_blobs_by_digest ON repository_blobs(digest);
      CREATE TABLE manifest_contents (
        digest TEXT PRIMARY KEY,
        content BLOB NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE manifests (
        repository_id INTEGER NOT NULL REFERENCES repositories(id),
        digest TEXT NOT NULL REFERENCES manifest_contents(digest),
        media_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        artifact_type TEXT,
        config_digest TEXT,
        config_media_type TEXT,
        subject TEXT,
        annotations TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (repository_id, digest)
      ) WITHOUT ROWID;
      CREATE INDEX manifests_by_subject ON manifests(repository_id, subject) WHERE subject IS NOT NULL;
      -- What each manifest needs: blobs (config, layers) and child manifests (index entries).
      CREATE TABLE manifest_references (
        repository_id INTEGER NOT NULL,
        manifest_digest TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('blob', 'manifest')),
        digest TEXT NOT NULL,
        PRIMARY KEY (repository_id, manifest_digest, kind, digest),
        FOREIGN KEY (repository_id, manifest_digest) REFERENCES manifests(repository_id, digest) ON DELETE CASCADE
      ) WITHOUT ROWID;
      CREATE INDEX manifest_references_by_target ON manifest_references(repository_id, kind, digest);
      CREATE TABLE tags (
        repository_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        manifest_digest TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (repository_id, name),
        FOREIGN KEY (repository_id, manifest_digest) REFERENCES manifests(repository_id, digest) ON DELETE CASCADE
      ) WITHOUT ROWID;
      CREATE INDEX tags_by_manifest ON tags(repository_id, manifest_digest);
      CREATE TABLE upload_sessions (
        id TEXT PRIMARY KEY,
        repository TEXT NOT NULL,
        offset INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        lock_owner TEXT,
        lock_expires_at INTEGER
      ) WITHOUT ROWID;
      CREATE INDEX upload_sessions_by_update ON upload_sessions(updated_at);
    `,
  },
  // Version 2 ('identity and permissions') moved with its tables to the identity stores
  // (src/auth/sql/*-migrations.ts, which adopt it): never reuse the number 2.
  {
    version: 3,
    name: 'upload session hash state',
    sql: `
      -- The running digest state of an upload at its offset (opaque to the store), so any replica can continue it.
      ALTER TABLE upload_sessions ADD COLUMN hash_state TEXT;
    `,
  },
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
