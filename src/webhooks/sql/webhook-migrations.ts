import type { StoreMigrations } from '../../persistence/migration';

const tables = (id: string, bigint: string) => `
      -- Hooks; scope_kind 'org' (scope_id: the organisation's account id), 'repository' (a source
      -- repository's id) or 'instance' (scope_id 0). No foreign keys: another store owns those rows.
      CREATE TABLE webhook_hooks (
        id ${id},
        scope_kind TEXT NOT NULL,
        scope_id ${bigint} NOT NULL,
        url TEXT NOT NULL,
        secret TEXT,
        content_type TEXT NOT NULL,
        events TEXT NOT NULL,
        package_glob TEXT,
        tag_glob TEXT,
        active INTEGER NOT NULL,
        disabled_reason TEXT,
        -- When the hook's deliveries started failing without a success since (null: not failing).
        failing_since ${bigint},
        created_at ${bigint} NOT NULL,
        updated_at ${bigint} NOT NULL
      );
      CREATE INDEX webhook_hooks_by_scope ON webhook_hooks (scope_kind, scope_id, id);
      -- The outbox: one row per event and hook, leased by one worker at a time.
      CREATE TABLE webhook_deliveries (
        id ${id},
        hook_id ${bigint} NOT NULL,
        guid TEXT NOT NULL,
        event TEXT NOT NULL,
        action TEXT,
        payload TEXT NOT NULL,
        source TEXT,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at ${bigint} NOT NULL,
        redelivery INTEGER NOT NULL,
        lease_owner TEXT,
        lease_expires_at ${bigint},
        created_at ${bigint} NOT NULL
      );
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
      -- One delivery per hook and change it came from (a journal entry), however often the change is read.
      CREATE UNIQUE INDEX webhook_deliveries_by_source ON webhook_deliveries (hook_id, source);
      -- The delivery log: every attempt's request and response (bodies cut at 64 KiB).
      CREATE TABLE webhook_attempts (
        id ${id},
        delivery_id ${bigint} NOT NULL,
        hook_id ${bigint} NOT NULL,
        attempt INTEGER NOT NULL,
        redelivery INTEGER NOT NULL,
        at ${bigint} NOT NULL,
        duration_ms INTEGER NOT NULL,
        status_code INTEGER NOT NULL,
        status TEXT NOT NULL,
        request_headers TEXT NOT NULL,
        request_body TEXT NOT NULL,
        response_headers TEXT NOT NULL,
        response_body TEXT NOT NULL
      );
      CREATE INDEX webhook_attempts_by_hook ON webhook_attempts (hook_id, id);
      CREATE INDEX webhook_attempts_by_time ON webhook_attempts (at);`;

/** The webhooks subsystem's tables. Never edit a released migration; append the next version. */
export const WEBHOOK_MIGRATIONS: StoreMigrations = {
  store: 'webhooks',
  migrations: [
    {
      version: 1,
      name: 'hooks, deliveries and the delivery log',
      sql: {
        // AUTOINCREMENT: ids are never reused, so a receiver never sees a deleted hook's id on another.
        sqlite: tables('INTEGER PRIMARY KEY AUTOINCREMENT', 'INTEGER'),
        postgres: tables('BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY', 'BIGINT'),
      },
    },
    {
      version: 2,
      name: 'relay lease',
      // One process at a time turns the change journals into deliveries (the relay): each process read every
      // entry and built every payload, the others' work thrown away by the (hook, source) key.
      sql: {
        sqlite: 'CREATE TABLE webhook_relay_lease (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL);',
        postgres: 'CREATE TABLE webhook_relay_lease (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at BIGINT NOT NULL);',
      },
    },
    {
      version: 3,
      name: 'one payload per event',
      // An event's deliveries (one per hook) carried a copy of its payload each: 4.5 KB of GitHub's package
      // payload, three times a push with three hooks, most of what the relay wrote. Deliveries queued before keep
      // theirs in `payload` (payload_id null); new ones leave it empty.
      sql: {
        sqlite: `CREATE TABLE webhook_payloads (id INTEGER PRIMARY KEY, body TEXT NOT NULL, created_at INTEGER NOT NULL);
          ALTER TABLE webhook_deliveries ADD COLUMN payload_id INTEGER;
          CREATE INDEX webhook_deliveries_by_payload ON webhook_deliveries (payload_id);`,
        postgres: `CREATE TABLE webhook_payloads (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body TEXT NOT NULL,
            created_at BIGINT NOT NULL);
          ALTER TABLE webhook_deliveries ADD COLUMN payload_id BIGINT;
          CREATE INDEX webhook_deliveries_by_payload ON webhook_deliveries (payload_id);`,
      },
    },
    {
      version: 4,
      name: 'due deliveries in claim order',
      // A claim takes the first due deliveries by (next_attempt_at, id). PostgreSQL's index of (state,
      // next_attempt_at) could not give that order, so every claim scanned and sorted the whole backlog: 8.4 ms a
      // claim with 10,000 pending (EXPLAIN ANALYZE: Seq Scan, Sort, LockRows), against 0.27 ms on SQLite, whose
      // index ends in the rowid. With the id in the index the claim reads the first rows and stops.
      sql: `CREATE INDEX webhook_deliveries_due_in_order ON webhook_deliveries (state, next_attempt_at, id);
        DROP INDEX webhook_deliveries_due;`,
    },
  ],
};
