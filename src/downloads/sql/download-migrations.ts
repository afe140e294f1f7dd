import type { StoreMigrations } from '../../persistence/migration';

/** The download store's tables. Never edit a released migration; append the next version. */
export const DOWNLOAD_MIGRATIONS: StoreMigrations = {
  store: 'downloads',
  migrations: [
    {
      version: 1,
      name: 'daily and total download counts',
      sql: {
        sqlite: `
      -- Downloads per manifest and UTC day (days since the epoch), pruned after the retention.
      CREATE TABLE download_daily (
        repository TEXT NOT NULL,
        digest TEXT NOT NULL,
        day INTEGER NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (repository, digest, day)
      ) WITHOUT ROWID;
      CREATE INDEX download_daily_by_day ON download_daily (day);
      -- All-time downloads per manifest, never pruned.
      CREATE TABLE download_totals (
        repository TEXT NOT NULL,
        digest TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (repository, digest)
      ) WITHOUT ROWID;
    `,
        postgres: `
      -- Downloads per manifest and UTC day (days since the epoch), pruned after the retention.
      CREATE TABLE download_daily (
        repository TEXT NOT NULL,
        digest TEXT NOT NULL,
        day INTEGER NOT NULL,
        count BIGINT NOT NULL,
        PRIMARY KEY (repository, digest, day)
      );
      CREATE INDEX download_daily_by_day ON download_daily (day);
      -- All-time downloads per manifest, never pruned.
      CREATE TABLE download_totals (
        repository TEXT NOT NULL,
        digest TEXT NOT NULL,
        count BIGINT NOT NULL,
        PRIMARY KEY (repository, digest)
      );
    `,
      },
    },
  ],
};
