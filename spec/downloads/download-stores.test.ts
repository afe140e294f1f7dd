import { DOWNLOAD_MIGRATIONS } from '../../src/downloads/sql/download-migrations';
import { SqlDownloadStore } from '../../src/downloads/sql/sql-download-store';
import type { DownloadStore } from '../../src/downloads/download-store';
import { migrate } from '../../src/persistence/migration-runner';
import { downloadStoreContract } from '../contracts/download-store.contract';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../persistence/support/test-databases';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The download store contract on SQLite (a file, so a second connection exists) and PostgreSQL. */
for (const dialect of DIALECTS) {
  const opened = new WeakMap<DownloadStore, { t: TestDatabase; dir?: string }>();
  downloadStoreContract(`sql on ${dialect}`, {
    async create() {
      const dir = dialect === 'sqlite' ? mkdtempSync(path.join(os.tmpdir(), 'berth-downloads-')) : undefined;
      const t = await createTestDatabase(dialect, dir ? path.join(dir, 'berth.db') : undefined);
      if (dialect === 'sqlite') await t.db.exec('PRAGMA journal_mode = WAL');
      await migrate(t.db, [DOWNLOAD_MIGRATIONS]);
      const store = new SqlDownloadStore(t.db);
      opened.set(store, { t, dir });
      return store;
    },
    async another(store) {
      const { t } = opened.get(store)!;
      return new SqlDownloadStore(await t.another());
    },
    async destroy(store) {
      const o = opened.get(store);
      await o?.t.dispose();
      if (o?.dir) rmSync(o.dir, { recursive: true, force: true });
    },
  });
}
