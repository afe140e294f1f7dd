import type Database from 'better-sqlite3';

/**
 * The legacy SQLite migrations, applied in order inside one transaction each,
 * for the stores not yet moved onto src/persistence (identities). Never edit a released migration; append a new one.
 * A store that moves takes its migrations to the persistence runner, which
 * adopts them on databases that recorded them here (see
 * src/persistence/migration-runner.ts).
 */
const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  // Version 1 ('registry index') moved with its tables: the index's to the metadata store
  // (src/metadata/sql/metadata-migrations.ts), upload_sessions to the session store
  // (src/sessions/sql/upload-session-migrations.ts); both adopt it. Never reuse the number 1.
  {
    version: 2,
    name: 'identity and permissions',
    sql: `
      -- Users and organisations share one namespace: a package's first path component names one.
      CREATE TABLE accounts (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL CHECK (kind IN ('user', 'org')),
        password_hash TEXT,
        is_admin INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE org_members (
        org_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('owner', 'member')),
        PRIMARY KEY (org_id, user_id)
      ) WITHOUT ROWID;
      CREATE INDEX org_members_by_user ON org_members(user_id);
      -- Source repositories (what a package links to through org.opencontainers.image.source),
      -- not to be confused with OCI repositories, which are packages here.
      CREATE TABLE source_repositories (
        id INTEGER PRIMARY KEY,
        owner_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
        created_at INTEGER NOT NULL,
        UNIQUE (owner_id, name)
      );
      CREATE TABLE repository_collaborators (
        repository_id INTEGER NOT NULL REFERENCES source_repositories(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('read', 'write', 'admin')),
        PRIMARY KEY (repository_id, user_id)
      ) WITHOUT ROWID;
      CREATE TABLE packages (
        name TEXT PRIMARY KEY,
        owner_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        source_repository_id INTEGER REFERENCES source_repositories(id) ON DELETE SET NULL,
        visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX packages_by_source ON packages(source_repository_id);
      -- Personal access tokens and CI tokens; only a hash of the secret is kept.
      CREATE TABLE access_tokens (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('pat', 'ci')),
        user_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        repository_id INTEGER REFERENCES source_repositories(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        secret_hash TEXT NOT NULL UNIQUE,
        scopes TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        last_used_at INTEGER,
        revoked_at INTEGER
      );
      CREATE INDEX access_tokens_by_user ON access_tokens(user_id);
      -- OAuth2 refresh tokens (docker login identity tokens).
      CREATE TABLE refresh_tokens (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        access_token_id INTEGER REFERENCES access_tokens(id) ON DELETE CASCADE,
        secret_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
      CREATE TABLE web_sessions (
        secret_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      -- JWT signing keys: the newest unretired key signs; every unretired key verifies.
      CREATE TABLE signing_keys (
        kid TEXT PRIMARY KEY,
        algorithm TEXT NOT NULL,
        private_pem TEXT NOT NULL,
        public_pem TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        retired_at INTEGER
      ) WITHOUT ROWID;
    `,
  },
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
