import type { MetadataIndex } from '../../src/metadata/metadata-index';
import { METADATA_MIGRATIONS } from '../../src/metadata/sql/metadata-migrations';
import { SqlMetadataIndex } from '../../src/metadata/sql/sql-metadata-index';
import { migrate } from '../../src/persistence/migration-runner';
import { metadataIndexContract } from '../contracts/metadata-index.contract';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../persistence/support/test-databases';

for (const dialect of DIALECTS) {
  const opened = new WeakMap<MetadataIndex, TestDatabase>();
  metadataIndexContract(`sql on ${dialect}`, {
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
  });
}
