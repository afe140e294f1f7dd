import { MissingReferenceError, type MetadataIndex } from '../../src/metadata/metadata-index';
import { METADATA_MIGRATIONS } from '../../src/metadata/sql/metadata-migrations';
import { SqlMetadataIndex } from '../../src/metadata/sql/sql-metadata-index';
import { migrate } from '../../src/persistence/migration-runner';
import { metadataIndexContract, type MetadataIndexHarness } from '../contracts/metadata-index.contract';
import { ownerUsageContract } from '../contracts/owner-usage.contract';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../persistence/support/test-databases';

for (const dialect of DIALECTS) {
  const opened = new WeakMap<MetadataIndex, TestDatabase>();
  const harness: MetadataIndexHarness = {
    async create() {
      const t = await createTestDatabase(dialect);
      await migrate(t.db, [METADATA_MIGRATIONS]);
      const index = new SqlMetadataIndex(t.db);
      opened.set(index, t);
      return index;
    },
    async destroy(index) {
      await index.close();
      await opened.get(index)?.dispose();
    },
  };
  metadataIndexContract(`sql on ${dialect}`, harness);
  ownerUsageContract(`sql on ${dialect}`, harness);
}

/**
 * Two replicas. On PostgreSQL each has its own pool. On SQLite they share
 * one connection, as the index and every store of one process do: replicas
 * are other processes there, and two connections in one process would
 * deadlock (better-sqlite3 waits for the write lock synchronously, blocking
 * the event loop the holder needs to finish; seen as SQLITE_BUSY after the
 * 5 s busy_timeout), so the shared connection's queue is what serialises them.
 */
for (const dialect of DIALECTS) {
  describe(`SqlMetadataIndex on ${dialect}: two replicas racing`, () => {
    let t: TestDatabase;
    beforeEach(async () => {
      t = await createTestDatabase(dialect);
      await migrate(t.db, [METADATA_MIGRATIONS]);
    });
    afterEach(() => t.dispose());

    it('never records a manifest whose blob the other replica unlinked at the same time', async () => {
      const a = new SqlMetadataIndex(t.db);
      const b = new SqlMetadataIndex(dialect === 'postgres' ? await t.another() : t.db);
      const layer = `sha256:${'1'.repeat(64)}`;
      for (let round = 0; round < 20; round++) {
        const repository = `race/r${round}`;
        await a.linkBlob(repository, layer, 5);
        const record = {
          repository,
          digest: `sha256:${round.toString(16).padStart(64, '0')}`,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          size: 2,
          artifactType: null,
          configDigest: null,
          configMediaType: null,
          subject: null,
          annotations: null,
          createdAt: round,
        };
        const [put, unlink] = await Promise.allSettled([
          a.putManifest({ record, content: Buffer.from('{}'), references: [{ kind: 'blob', digest: layer }], tag: 'v1' }),
          b.unlinkBlob(repository, layer),
        ]);
        if (unlink.status === 'rejected') throw unlink.reason;
        const stored = (await a.statManifest(repository, record.digest)) !== null;
        const linked = (await a.linkedBlobSize(repository, layer)) !== null;
        // Either the manifest won (stored, blob still linked, unlink refused) or the unlink did (nothing stored).
        if (put.status === 'fulfilled') {
          expect({ stored, linked, unlink: unlink.value.status }).toEqual({ stored: true, linked: true, unlink: 'referenced' });
        } else {
          expect(put.reason).toBeInstanceOf(MissingReferenceError);
          expect({ stored, linked, unlink: unlink.value.status }).toEqual({ stored: false, linked: false, unlink: 'deleted' });
        }
      }
    });
  });
}
