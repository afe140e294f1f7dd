import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate } from '../../src/persistence/migration-runner';
import type { HookStore } from '../../src/webhooks/hook-store';
import { SqlHookStore } from '../../src/webhooks/sql/sql-hook-store';
import { WEBHOOK_MIGRATIONS } from '../../src/webhooks/sql/webhook-migrations';
import { hookStoreContract } from '../contracts/hook-store.contract';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../persistence/support/test-databases';

/** The hook store contract on SQLite (a file, so a second connection exists) and PostgreSQL. */
for (const dialect of DIALECTS) {
  const opened = new WeakMap<HookStore, { t: TestDatabase; dir?: string }>();
  hookStoreContract(`sql on ${dialect}`, {
    async create() {
      const dir = dialect === 'sqlite' ? mkdtempSync(path.join(os.tmpdir(), 'berth-hooks-')) : undefined;
      const t = await createTestDatabase(dialect, dir ? path.join(dir, 'berth.db') : undefined);
      if (dialect === 'sqlite') await t.db.exec('PRAGMA journal_mode = WAL');
      await migrate(t.db, [WEBHOOK_MIGRATIONS]);
      const store = new SqlHookStore(t.db);
      opened.set(store, { t, dir });
      return store;
    },
    async another(store) {
      const { t } = opened.get(store)!;
      return new SqlHookStore(await t.another());
    },
    async destroy(store) {
      const o = opened.get(store);
      await o?.t.dispose();
      if (o?.dir) rmSync(o.dir, { recursive: true, force: true });
    },
  });
}

/** What the SQL store keeps in its own tables: each event's payload once, whatever the schema it was queued under. */
for (const dialect of DIALECTS) {
  describe(`SqlHookStore payloads on ${dialect}`, () => {
    let t: TestDatabase;
    beforeEach(async () => {
      t = await createTestDatabase(dialect);
    });
    afterEach(() => t.dispose());

    const count = async (table: string) => Number((await t.db.get<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${table}`))?.n);
    const settings = {
      url: 'https://hooks.example.com/x',
      secret: null,
      contentType: 'json',
      events: ['*'],
      packageGlob: null,
      tagGlob: null,
      active: true,
    } as const;

    it("stores an event's payload once for all its hooks; each claimed delivery carries it; pruning removes it with them", async () => {
      await migrate(t.db, [WEBHOOK_MIGRATIONS]);
      const store = new SqlHookStore(t.db);
      const hooks = await Promise.all([1, 2, 3].map((n) => store.createHook({ kind: 'org', accountId: n }, settings, 1000)));
      const payload = JSON.stringify({ action: 'published', filler: 'x'.repeat(4000) });
      const other = JSON.stringify({ action: 'updated' });
      await store.enqueue(
        [
          ...hooks.map((h, i) => ({ hookId: h.id, source: 'metadata:1', guid: `g${i}`, event: 'package', action: 'published', payload })),
          { hookId: hooks[0]!.id, source: 'metadata:2', guid: 'g9', event: 'package', action: 'updated', payload: other },
        ],
        1000,
      );
      expect(await count('webhook_payloads')).toBe(2);
      const claimed = await store.claimDue('w', 1000, 60_000, 10);
      expect(claimed.map((d) => [d.guid, d.payload])).toEqual([
        ['g0', payload],
        ['g1', payload],
        ['g2', payload],
        ['g9', other],
      ]);
      expect((await store.delivery(claimed[3]!.id))?.payload).toBe(other);
      // Read again (a crash before the journal was acknowledged): nothing queued twice, the spare payload pruned later.
      await store.enqueue(
        [{ hookId: hooks[0]!.id, source: 'metadata:2', guid: 'g10', event: 'package', action: 'updated', payload: other }],
        1001,
      );
      expect(await count('webhook_deliveries')).toBe(4);
      expect(await count('webhook_payloads')).toBe(3);
      // Nothing old enough to prune but the spare payload, which no delivery names.
      expect(await store.pruneLog(5000, 100)).toBe(0);
      expect(await count('webhook_payloads')).toBe(2);
      for (const d of claimed)
        await store.finishAttempt(
          d.id,
          'w',
          {
            attempt: 1,
            at: 1002,
            durationMs: 1,
            statusCode: 200,
            status: 'OK',
            requestHeaders: {},
            requestBody: d.payload,
            responseHeaders: {},
            responseBody: '',
          },
          { state: 'delivered' },
        );
      // Kept while their deliveries are: four log entries and four deliveries go, and the two payloads with them.
      expect(await store.pruneLog(5000, 100)).toBe(8);
      expect(await count('webhook_deliveries')).toBe(0);
      expect(await count('webhook_payloads')).toBe(0);
    });

    it('claims deliveries queued before payloads had their own table with the payload they were queued with', async () => {
      const upTo2 = { ...WEBHOOK_MIGRATIONS, migrations: WEBHOOK_MIGRATIONS.migrations.slice(0, 2) };
      await migrate(t.db, [upTo2]);
      await t.db.run(
        `INSERT INTO webhook_hooks (scope_kind, scope_id, url, secret, content_type, events, active, created_at, updated_at)
         VALUES ('instance', 0, 'https://hooks.example.com/x', NULL, 'json', '["*"]', 1, 1000, 1000)`,
      );
      await t.db.run(
        `INSERT INTO webhook_deliveries (hook_id, guid, event, action, payload, source, state, attempts, next_attempt_at, redelivery, created_at)
         VALUES (1, 'legacy', 'package', 'published', '{"old":true}', 'metadata:1', 'pending', 0, 1000, 0, 1000)`,
      );
      await migrate(t.db, [WEBHOOK_MIGRATIONS]);
      const store = new SqlHookStore(t.db);
      expect((await store.claimDue('w', 1000, 60_000, 10)).map((d) => [d.guid, d.payload])).toEqual([['legacy', '{"old":true}']]);
    });
  });
}
