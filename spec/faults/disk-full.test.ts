import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createLogger } from '../../src/log';
import { createRegistry, type Registry } from '../../src/composition-root';
import { expectOciError, pushBlob, pushImage, putManifest, startUpload, withQuery } from '../support/http';
import { blob, descriptor, EMPTY_CONFIG, imageManifest, serialize } from '../support/oci';
import { MediaType } from '../../src/oci/media-types';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FsBlobStore } from '../../src/storage/fs/fs-blob-store';
import { StorageFullError } from '../../src/storage/storage-faults';
import { testConfig } from '../support/registry';

/**
 * The real disk-full case: Berth's data directory (the SQLite file and the
 * fs blob store) on an 8 MiB tmpfs, a push that overflows it, the client's
 * cancel, then a push that fits. Mounting needs root; where it is impossible
 * the suite shows as skipped, with the reason in its name.
 */
const MiB = 1024 * 1024;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'berth-disk-full-'));
const mountResult = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dataDir], { encoding: 'utf8' });
const mounted = mountResult.status === 0;
const skipReason = mounted ? '' : `: cannot mount a tmpfs (${(mountResult.stderr || mountResult.error?.message || 'unknown').trim()})`;

function unmount(): void {
  if (mounted) spawnSync('umount', ['-l', dataDir]);
  rmSync(dataDir, { recursive: true, force: true });
}
// Even if the run is torn down before afterAll.
process.once('exit', unmount);

const describeMounted = mounted ? describe : describe.skip;

describeMounted(`a full disk under the data directory${skipReason}`, () => {
  let registry: Registry;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    registry = await createRegistry(testConfig(dataDir), createLogger('silent'));
    http = request(registry.app);
  });

  afterAll(async () => {
    await registry?.close();
    unmount();
  });

  const stagedUploads = () => readdirSync(path.join(dataDir, 'storage', 'uploads'));

  it('answers the overflowing chunk with 507, cancels it cleanly, and then takes a push that fits', async () => {
    const location = await startUpload(http, 'full/app');
    const tooBig = randomBytes(12 * MiB);
    const patched = await http.patch(location).set('Content-Type', 'application/octet-stream').send(tooBig);
    expectOciError(patched, 507, 'STORAGE_FULL');

    // The staged bytes are what the disk took: the client may learn how far it got.
    const status = await http.get(location);
    expect(status.status).toBe(204);
    expect(status.headers.range).toMatch(/^0-\d+$/);

    // Cancelling a push that failed for lack of space: no server error, nothing left staged.
    const cancelled = await http.delete(location);
    expect(cancelled.status).toBe(204);
    expect(stagedUploads()).toEqual([]);
    expectOciError(await http.get(location), 404, 'BLOB_UPLOAD_UNKNOWN');

    // The space is back: a push that fits goes through, blobs and a tag.
    const pushed = await pushImage(http, 'full/app', 'v1', { seed: 'after the disk filled' });
    const pulled = await http.get('/v2/full/app/manifests/v1').set('Accept', pushed.mediaType ?? '*/*');
    expect(pulled.status).toBe(200);
    expect(pulled.headers['docker-content-digest']).toBe(pushed.digest);
    const layer = blob(randomBytes(2 * MiB));
    const second = await startUpload(http, 'full/app');
    const put = await http
      .put(withQuery(second, 'digest', layer.digest))
      .type('application/octet-stream')
      .send(layer.content);
    expect(put.status).toBe(201);
    expect(stagedUploads()).toEqual([]);
  });

  it('answers a manifest push on a full disk with 507 or takes it whole, never a tag without its manifest', async () => {
    const layer = blob(randomBytes(64 * 1024));
    await pushBlob(http, 'full/index', EMPTY_CONFIG);
    await pushBlob(http, 'full/index', layer);
    // Fill what is left of the disk, a MiB at a time, until it refuses.
    const filler = path.join(dataDir, 'filler');
    const mib = Buffer.alloc(MiB, 1);
    for (let i = 0; i < 16; i++) {
      try {
        writeFileSync(filler, mib, { flag: 'a' });
      } catch {
        break;
      }
    }
    // Large enough (annotations) that SQLite needs new pages for it.
    const manifest = serialize(
      imageManifest({
        mediaType: MediaType.OCI_MANIFEST,
        config: descriptor(EMPTY_CONFIG, MediaType.OCI_CONFIG),
        layers: [descriptor(layer, 'application/vnd.oci.image.layer.v1.tar')],
        annotations: { padding: 'x'.repeat(256 * 1024) },
      }),
    );
    const res = await putManifest(http, 'full/index', 'v1', manifest.content, MediaType.OCI_MANIFEST);
    expect(res.status).not.toBe(500);
    const pulled = await http.get('/v2/full/index/manifests/v1').set('Accept', MediaType.OCI_MANIFEST);
    if (res.status === 201) {
      expect(pulled.status).toBe(200);
    } else {
      expectOciError(res, 507, 'STORAGE_FULL');
      expectOciError(pulled, 404, 'MANIFEST_UNKNOWN');
    }
    rmSync(filler);
    expect((await putManifest(http, 'full/index', 'v1', manifest.content, MediaType.OCI_MANIFEST)).status).toBe(201);
    expect((await http.get('/v2/full/index/manifests/v1').set('Accept', MediaType.OCI_MANIFEST)).status).toBe(200);
  });

  it('has the fs driver itself name the full disk: its chunk writer fails with StorageFullError', async () => {
    const store = new FsBlobStore(path.join(dataDir, 'direct'));
    await store.init();
    await store.createUpload('direct-1');
    const sink = await store.openWrite('direct-1', 0);
    await expect(pipeline(Readable.from([randomBytes(12 * MiB)]), sink)).rejects.toBeInstanceOf(StorageFullError);
    // What the disk took stays staged, for the client to resume from; abort frees it.
    expect(await store.uploadSize('direct-1')).toBeGreaterThan(0);
    await store.abortUpload('direct-1');
    expect(await store.listUploads()).toEqual([]);
  });

  it('answers a monolithic push that overflows with 507 and keeps nothing of it', async () => {
    const tooBig = blob(randomBytes(12 * MiB));
    const res = await http
      .post(`/v2/full/mono/blobs/uploads/?digest=${tooBig.digest}`)
      .type('application/octet-stream')
      .send(tooBig.content);
    expectOciError(res, 507, 'STORAGE_FULL');
    expect(stagedUploads()).toEqual([]);
    expect((await http.head(`/v2/full/mono/blobs/${tooBig.digest}`)).status).toBe(404);
    expectOciError(await http.get(`/v2/full/mono/blobs/${tooBig.digest}`), 404, 'BLOB_UNKNOWN');
  });
});
