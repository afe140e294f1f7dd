import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FsBlobStore } from '../../src/storage/fs/fs-blob-store';
import { blobStoreContract } from '../contracts/blob-store.contract';

const roots = new Map<FsBlobStore, string>();

blobStoreContract('fs', {
  capabilities: { copyTo: true, listBlobs: true },
  async create() {
    const root = mkdtempSync(path.join(os.tmpdir(), 'berth-fs-'));
    const store = new FsBlobStore(root);
    await store.init();
    roots.set(store, root);
    return store;
  },
  async destroy(store) {
    rmSync(roots.get(store as FsBlobStore)!, { recursive: true, force: true });
  },
});
