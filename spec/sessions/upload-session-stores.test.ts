import { openDatabase } from '../../src/metadata/sqlite/database';
import { MemoryUploadSessionStore } from '../../src/sessions/memory/memory-upload-session-store';
import { SqliteUploadSessionStore } from '../../src/sessions/sqlite/sqlite-upload-session-store';
import { uploadSessionStoreContract } from '../contracts/upload-session-store.contract';

uploadSessionStoreContract('memory', {
  create: async () => new MemoryUploadSessionStore(),
  destroy: async (store) => store.close(),
});

const dbs = new WeakMap<object, ReturnType<typeof openDatabase>>();
uploadSessionStoreContract('sqlite', {
  async create() {
    const db = openDatabase(':memory:');
    const store = new SqliteUploadSessionStore(db);
    dbs.set(store, db);
    return store;
  },
  async destroy(store) {
    await store.close();
    dbs.get(store)?.close();
  },
});
