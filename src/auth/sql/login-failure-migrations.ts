import type { StoreMigrations } from '../../persistence/migration';

/** The login-failure store's tables. Never edit a released migration; append the next version. */
export const LOGIN_FAILURE_MIGRATIONS: StoreMigrations = {
  store: 'login-failures',
  migrations: [
    {
      version: 1,
      name: 'failed login windows',
      // Released as version 4 of src/metadata/sqlite/migrations.ts; the SQLite text is that one, unchanged.
      legacyVersion: 4,
      sql: {
        sqlite: `
      -- Failed logins per user name or client address within a window, shared by every process on the file.
      CREATE TABLE login_failures (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        started_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX login_failures_started ON login_failures (started_at);
    `,
        postgres: `
      -- Failed logins per user name or client address within a window, shared by every replica.
      CREATE TABLE login_failures (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        started_at BIGINT NOT NULL
      );
      CREATE INDEX login_failures_started ON login_failures (started_at);
    `,
      },
    },
  ],
};
