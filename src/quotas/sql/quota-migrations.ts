import type { StoreMigrations } from '../../persistence/migration';

/** Quota limits (src/quotas): one row per owner that has limits of its own; a null column takes the default. */
export const QUOTA_MIGRATIONS: StoreMigrations = {
  store: 'quotas',
  migrations: [
    {
      version: 1,
      name: 'quota limits',
      sql: {
        sqlite: `
      CREATE TABLE quota_limits (
        owner TEXT PRIMARY KEY,
        max_bytes INTEGER,
        max_versions_per_package INTEGER,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
        postgres: `
      CREATE TABLE quota_limits (
        owner TEXT COLLATE "C" PRIMARY KEY,
        max_bytes BIGINT,
        max_versions_per_package INTEGER,
        updated_at BIGINT NOT NULL
      );
    `,
      },
    },
  ],
};
