import type { StoreMigrations } from '../../persistence/migration';

/**
 * Retention (src/retention): policies (`rules` is the RetentionRules as JSON: read and written whole, never
 * queried inside) and the lease that lets one retention run at a time across workers and replicas.
 */
export const RETENTION_MIGRATIONS: StoreMigrations = {
  store: 'retention',
  migrations: [
    {
      version: 1,
      name: 'retention policies and run lease',
      sql: {
        sqlite: `
      CREATE TABLE retention_policies (
        scope TEXT NOT NULL CHECK (scope IN ('owner', 'package')),
        name TEXT NOT NULL,
        rules TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (scope, name)
      );
      CREATE TABLE retention_leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      );
    `,
        postgres: `
      CREATE TABLE retention_policies (
        scope TEXT NOT NULL CHECK (scope IN ('owner', 'package')),
        name TEXT COLLATE "C" NOT NULL,
        rules TEXT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (scope, name)
      );
      CREATE TABLE retention_leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at BIGINT NOT NULL
      );
    `,
      },
    },
  ],
};
