import type { Config } from '../../src/config';
import { openBlobStore, openSessionStore, STORE_MIGRATIONS } from '../../src/composition-root';
import type { MetadataIndex } from '../../src/metadata/metadata-index';
import { SqlMetadataIndex } from '../../src/metadata/sql/sql-metadata-index';
import { migrate } from '../../src/persistence/migration-runner';
import type { UploadSessionStore } from '../../src/sessions/upload-session-store';
import type { BlobStore } from '../../src/storage/blob-store';
import { prepareTestConfig } from './registry';
import { openStoreDatabase } from './test-backend';

/** A registry's stores without its services, for a spec that composes those itself. */
export interface TestStores {
  config: Config;
  blobs: BlobStore;
  sessions: UploadSessionStore;
  index: MetadataIndex;
  /** Closes the stores and removes their data. */
  close(): Promise<void>;
}

/**
 * The stores the composition root would open for a configuration on a fresh
 * place of the jest project's backend (prepareTestConfig), migrated;
 * `overrides` win (e.g. `s3: undefined` for blobs that stay on the filesystem).
 */
export async function openTestStores(overrides: Partial<Config> = {}, dirPrefix = 'berth-stores-'): Promise<TestStores> {
  const setup = await prepareTestConfig(overrides, dirPrefix);
  const db = await openStoreDatabase(setup.config);
  await migrate(db, STORE_MIGRATIONS);
  const storage = await openBlobStore(setup.config);
  const sessions = await openSessionStore(setup.config, db);
  const index = new SqlMetadataIndex(db);
  return {
    config: setup.config,
    blobs: storage.store,
    sessions: sessions.store,
    index,
    async close() {
      try {
        await sessions.close();
        await index.close();
        await db.close();
        storage.close();
      } finally {
        await setup.dispose();
      }
    },
  };
}
