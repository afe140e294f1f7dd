import type { StoreMigrations } from '../../persistence/migration';

/** The signing-key store's table. Never edit a released migration; append the next version. */
export const SIGNING_KEY_MIGRATIONS: StoreMigrations = {
  store: 'signing-keys',
  migrations: [
    {
      version: 1,
      name: 'signing keys',
      // Released in version 2 of src/metadata/sqlite/migrations.ts; the SQLite text is its part of that one, unchanged.
      legacyVersion: 2,
      sql: {
        sqlite: `
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
        postgres: `
      -- JWT signing keys: the newest unretired key signs; every unretired key verifies.
      CREATE TABLE signing_keys (
        kid TEXT PRIMARY KEY,
        algorithm TEXT NOT NULL,
        private_pem TEXT NOT NULL,
        public_pem TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        retired_at BIGINT
      );
    `,
      },
    },
  ],
};
