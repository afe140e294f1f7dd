import type { StoreMigrations } from '../../persistence/migration';

const columns = (id: string, bigint: string) => `
        id ${id},
        at ${bigint} NOT NULL,
        action TEXT NOT NULL,
        actor_kind TEXT NOT NULL,
        actor_id ${bigint},
        actor_name TEXT,
        credential TEXT,
        token_id ${bigint},
        client_address TEXT,
        request_id TEXT,
        owner_id ${bigint},
        owner_name TEXT,
        package TEXT,
        repository TEXT,
        details TEXT NOT NULL`;

// No foreign keys: an entry outlives the user, token or package it names.
const indexes = `
      CREATE INDEX audit_events_by_owner ON audit_events (owner_id, id);
      CREATE INDEX audit_events_by_actor ON audit_events (actor_id, id);
      CREATE INDEX audit_events_by_time ON audit_events (at);`;

/** The audit log's table. Never edit a released migration; append the next version. */
export const AUDIT_MIGRATIONS: StoreMigrations = {
  store: 'audit',
  migrations: [
    {
      version: 1,
      name: 'audit events',
      sql: {
        sqlite: `CREATE TABLE audit_events (${columns('INTEGER PRIMARY KEY', 'INTEGER')}
      );${indexes}`,
        postgres: `CREATE TABLE audit_events (${columns('BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY', 'BIGINT')}
      );${indexes}`,
      },
    },
  ],
};
