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
