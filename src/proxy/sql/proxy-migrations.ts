import type { StoreMigrations } from '../../persistence/migration';

/** The pull-through cache's tables. Never edit a released migration; append the next version. */
export const PROXY_MIGRATIONS: StoreMigrations = {
  store: 'proxy',
  migrations: [
    {
      version: 1,
      name: 'upstream fetch leases',
      sql: {
        sqlite: `
      -- One row while a process fetches a blob from an upstream; expires_at in ms since the epoch.
      CREATE TABLE proxy_fetch_leases (
        repository TEXT NOT NULL,
        digest TEXT NOT NULL,
        holder TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (repository, digest)
      ) WITHOUT ROWID;
    `,
        postgres: `
      -- One row while a process fetches a blob from an upstream; expires_at in ms since the epoch.
      CREATE TABLE proxy_fetch_leases (
        repository TEXT NOT NULL,
        digest TEXT NOT NULL,
        holder TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (repository, digest)
      );
    `,
      },
    },
  ],
};
