import type { StoreMigrations } from '../../persistence/migration';

/** The web-session store's table (after ACCOUNT_MIGRATIONS: see identity-migrations.ts). */
export const WEB_SESSION_MIGRATIONS: StoreMigrations = {
  store: 'web-sessions',
  migrations: [
    {
      version: 1,
      name: 'web sessions',
      // Released in version 2 of src/metadata/sqlite/migrations.ts; the SQLite text is its part of that one, unchanged.
      legacyVersion: 2,
      sql: {
        sqlite: `
      CREATE TABLE web_sessions (
        secret_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
        postgres: `
      CREATE TABLE web_sessions (
        secret_hash TEXT PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
      );
      CREATE INDEX web_sessions_by_user ON web_sessions(user_id);
    `,
      },
    },
  ],
};
