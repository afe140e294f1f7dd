import { mkdtempSync, promises as fsp, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { FsBlobStore } from '../../src/storage/fs/fs-blob-store';

// What the filesystem blob store does so that a committed blob survives a power loss: its bytes are synced
// before its name appears, and the upload's writers start that writeback as they go.
const MiB = 1024 * 1024;
let root: string;
let store: FsBlobStore;
let handleMethods: { datasync: () => Promise<void> };

beforeAll(async () => {
  const probe = await fsp.open(__filename, 'r');
  handleMethods = Object.getPrototypeOf(probe) as typeof handleMethods;
  await probe.close();
});
beforeEach(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'berth-durable-'));
  store = new FsBlobStore(root);
  await store.init();
});
afterEach(() => {
  jest.restoreAllMocks();
  rmSync(root, { recursive: true, force: true });
});

async function stage(id: string, chunks: Buffer[]): Promise<void> {
  await store.createUpload(id);
  const sink = await store.openWrite(id, 0);
  for (const chunk of chunks) if (!sink.write(chunk)) await new Promise((resolve) => sink.once('drain', resolve));
  sink.end();
  await finished(sink);
}

it('syncs the staged bytes to the disk before the blob gets its name', async () => {
  const order: string[] = [];
  const datasync = handleMethods.datasync;
  jest.spyOn(handleMethods, 'datasync').mockImplementation(function (this: unknown) {
    order.push('datasync');
    return datasync.call(this);
  });
  const rename = fsp.rename;
  jest.spyOn(fsp, 'rename').mockImplementation((from, to) => {
    order.push('rename');
    return rename(from, to);
  });
  await stage('u1', [Buffer.from('hello')]);
  order.length = 0;
  await store.commitUpload('u1', `sha256:${'a'.repeat(64)}`);
  expect(order).toEqual(['datasync', 'rename']);
});

it('starts a writeback each time the file crosses 32 MiB, whichever writer crosses it', async () => {
  const datasync = handleMethods.datasync;
  const calls = jest.spyOn(handleMethods, 'datasync').mockImplementation(function (this: unknown) {
    return datasync.call(this);
  });
  await store.createUpload('u2');
  // Five writers of 8 MiB each, as a client sending a PATCH per 8 MiB: the fourth reaches 32 MiB.
  for (let i = 0; i < 5; i++) {
    const sink = await store.openWrite('u2', i * 8 * MiB);
    sink.end(Buffer.alloc(8 * MiB, i));
    await finished(sink);
    expect(calls).toHaveBeenCalledTimes(i >= 3 ? 1 : 0);
  }
  expect(await store.uploadSize('u2')).toBe(40 * MiB);
});

it('answers a chunk without waiting for its writeback, and closes the file only once the writeback ends', async () => {
  // The writer's writeback is held until released; the commit's own sync is not.
  let release: (() => void) | undefined;
  const datasync = handleMethods.datasync;
  jest.spyOn(handleMethods, 'datasync').mockImplementation(async function (this: unknown) {
    if (!release) await new Promise<void>((resolve) => (release = resolve));
    return datasync.call(this);
  });
  // A FileHandle's close is a field of each handle, not of its prototype: counted on the handles the store opens.
  let closes = 0;
  const open = fsp.open;
  jest.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
    const handle = await open(...args);
    const close = handle.close.bind(handle);
    handle.close = () => {
      closes++;
      return close();
    };
    return handle;
  });
  await store.createUpload('u3');
  const sink = await store.openWrite('u3', 0);
  sink.end(Buffer.alloc(33 * MiB, 7));
  await finished(sink); // the writeback is still held
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(release).toBeDefined();
  expect(closes).toBe(0);
  release?.();
  for (let i = 0; i < 100 && closes === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(closes).toBe(1);
  const digest = `sha256:${'b'.repeat(64)}`;
  await store.commitUpload('u3', digest);
  const blob = readFileSync(path.join(root, 'blobs', 'sha256', 'bb', 'b'.repeat(64)));
  expect(blob.length).toBe(33 * MiB);
  expect(blob.every((byte) => byte === 7)).toBe(true);
});
