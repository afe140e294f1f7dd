import type { Config } from '../../src/config';
import { openBlobStore } from '../../src/composition-root';
import { GarbageCollector, type CollectorSettings } from '../../src/gc/collector';
import { SqlCollectorLease } from '../../src/gc/sql/sql-collector-lease';
import { createLogger } from '../../src/log';
import { SqlMetadataIndex } from '../../src/metadata/sql/sql-metadata-index';
import type { BlobStore } from '../../src/storage/blob-store';
import { openStoreDatabase } from '../support/test-backend';

export interface OutsideCollector {
  collector: GarbageCollector;
  index: SqlMetadataIndex;
  blobs: BlobStore;
  lease: SqlCollectorLease;
  close(): Promise<void>;
}

/**
 * A collector on a registry's database and storage opened beside it, as `berth gc` runs beside servers, with
 * settings a configuration cannot give (a restore window of 0: soft-deleted manifests are purged at once).
 */
export async function collectorBeside(config: Config, settings: Partial<CollectorSettings> = {}): Promise<OutsideCollector> {
  const db = await openStoreDatabase(config);
  const storage = await openBlobStore(config);
  const index = new SqlMetadataIndex(db);
  const lease = new SqlCollectorLease(db);
  const collector = new GarbageCollector(index, storage.store, lease, createLogger('silent'), {
    graceSeconds: 0,
    restoreWindowDays: 0,
    ...settings,
  });
  return {
    collector,
    index,
    blobs: storage.store,
    lease,
    async close() {
      storage.close();
      await db.close();
    },
  };
}
