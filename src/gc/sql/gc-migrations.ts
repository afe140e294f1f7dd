import type { StoreMigrations } from '../../persistence/migration';

/** The collector's own table: the lease that lets one collector run at a time across workers and replicas. */
export const GC_MIGRATIONS: StoreMigrations = {
  store: 'gc',
  migrations: [
    {
      version: 1,
      name: 'collector lease',
      sql: `
      CREATE TABLE gc_leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at BIGINT NOT NULL
      );
    `,
    },
  ],
};
