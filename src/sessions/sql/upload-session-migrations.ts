import type { StoreMigrations } from '../../persistence/migration';

/**
 * The upload-session store's table. Never edit a released migration; append the next version.
 * `offset` is a reserved word in PostgreSQL: queries quote it ("offset"), which SQLite reads the same.
 */
export const UPLOAD_SESSION_MIGRATIONS: StoreMigrations = {
  store: 'upload-sessions',
  migrations: [
    {
      version: 1,
      name: 'upload sessions',
      // Released inside version 1 of src/metadata/sqlite/migrations.ts; the SQLite text is that part of it, unchanged.
      legacyVersion: 1,
      sql: {
        sqlite: `
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
        postgres: `
      CREATE TABLE upload_sessions (
        id TEXT PRIMARY KEY,
        repository TEXT NOT NULL,
        "offset" BIGINT NOT NULL,
        started_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        lock_owner TEXT,
        lock_expires_at BIGINT
      );
      CREATE INDEX upload_sessions_by_update ON upload_sessions(updated_at);
    `,
      },
    },
    {
      version: 2,
      name: 'upload session hash state',
      // Released as version 3 of src/metadata/sqlite/migrations.ts; the text is that one, unchanged.
      legacyVersion: 3,
      sql: `
      -- The running digest state of an upload at its offset (opaque to the store), so any replica can continue it.
      ALTER TABLE upload_sessions ADD COLUMN hash_state TEXT;
    `,
    },
  ],
};
