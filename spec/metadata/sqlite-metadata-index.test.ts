import { openDatabase } from '../../src/metadata/sqlite/database';
import { SqliteMetadataIndex } from '../../src/metadata/sqlite/sqlite-metadata-index';
import { metadataIndexContract } from '../contracts/metadata-index.contract';

const dbs = new WeakMap<object, ReturnType<typeof openDatabase>>();
metadataIndexContract('sqlite', {
  async create() {
    const db = openDatabase(':memory:');
    const index = new SqliteMetadataIndex(db);
    dbs.set(index, db);
    return index;
  },
  async destroy(index) {
    await index.close();
    dbs.get(index)?.close();
  },
});
