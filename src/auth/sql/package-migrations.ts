import type { StoreMigrations } from '../../persistence/migration';

/** The package store's tables (after ACCOUNT_ and SOURCE_REPOSITORY_MIGRATIONS: see identity-migrations.ts). */
export const PACKAGE_MIGRATIONS: StoreMigrations = {
  store: 'packages',
  migrations: [
    {
      version: 1,
      name: 'packages',
      // Released in version 2 of src/metadata/sqlite/migrations.ts; the SQLite text is its part of that one, unchanged.
      legacyVersion: 2,
      sql: {
        sqlite: `
      CREATE TABLE packages (
        name TEXT PRIMARY KEY,
        owner_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        source_repository_id INTEGER REFERENCES source_repositories(id) ON DELETE SET NULL,
        visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX packages_by_source ON packages(source_repository_id);
    `,
        postgres: `
      CREATE TABLE packages (
        name TEXT PRIMARY KEY,
        owner_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        source_repository_id BIGINT REFERENCES source_repositories(id) ON DELETE SET NULL,
        visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
        created_at BIGINT NOT NULL
      );
      CREATE INDEX packages_by_source ON packages(source_repository_id);
      CREATE INDEX packages_by_owner ON packages(owner_id);
    `,
      },
    },
  ],
};
