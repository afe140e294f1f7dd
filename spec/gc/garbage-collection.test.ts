import { startTestRegistry, type TestRegistry } from '../support/registry';
import { blob } from '../support/oci';
import { binary, pushBlob, pushImage } from '../support/http';
import { CollectionRunning } from '../../src/gc/errors';
import { collectorBeside, type OutsideCollector } from './support';

/** Garbage collection through the registry's own HTTP API and storage (src/gc/collector.ts). */
describe('garbage collection', () => {
  let t: TestRegistry;
  let outside: OutsideCollector;
  beforeEach(async () => {
    t = await startTestRegistry();
    outside = await collectorBeside(t.config);
  });
  afterEach(async () => {
    await outside.close();
    await t.close();
  });

  async function stored(digest: string): Promise<boolean> {
    return (await outside.blobs.stat(digest)) !== null;
  }

  it('deletes a blob no manifest names once the grace period is over, and keeps it within it', async () => {
    const loose = blob('a layer no manifest ever named');
    await pushBlob(t.http, 'gc/loose', loose);
    expect(await t.registry.collector.collect()).toMatchObject({ objects: 0, bytes: 0, dryRun: false });
    expect(await stored(loose.digest)).toBe(true);

    const dry = await t.registry.collector.collect({ graceSeconds: 0, dryRun: true });
    expect(dry).toMatchObject({ objects: 1, bytes: loose.content.length, dryRun: true });
    expect(await stored(loose.digest)).toBe(true);

    const summary = await t.registry.collector.collect({ graceSeconds: 0 });
    expect(summary).toMatchObject({ objects: 1, bytes: loose.content.length, manifests: 0 });
    expect(summary.seconds).toBeGreaterThanOrEqual(0);
    expect(await stored(loose.digest)).toBe(false);
    expect((await t.http.head(`/v2/gc/loose/blobs/${loose.digest}`)).status).toBe(404);
    // Nothing is left to do: the candidate went with the blob.
    expect(await t.registry.collector.collect({ graceSeconds: 0 })).toMatchObject({ objects: 0 });
  });

  it('keeps the blobs of tagged, untagged and restorable manifests; frees them once the manifest is purged', async () => {
    const image = await pushImage(t.http, 'gc/app', 'v1');
    const kept = await t.registry.collector.collect({ graceSeconds: 0 });
    expect(kept.objects).toBe(0);
    expect((await t.http.get(`/v2/gc/app/blobs/${image.layer.digest}`)).status).toBe(200);

    expect((await t.http.delete(`/v2/gc/app/manifests/${image.digest}`)).status).toBe(202);
    // Soft-deleted and within its restore window (30 days here): its blobs stay.
    expect(await t.registry.collector.collect({ graceSeconds: 0 })).toMatchObject({ objects: 0, manifests: 0 });
    expect(await stored(image.layer.digest)).toBe(true);

    // A restore window of 0: the manifest is purged, and its blobs with it.
    const purged = await outside.collector.collect();
    expect(purged).toMatchObject({ objects: 2, manifests: 1, bytes: image.layer.content.length + image.config.content.length });
    expect(await stored(image.layer.digest)).toBe(false);
    expect(await stored(image.config.digest)).toBe(false);
    expect(await outside.index.garbageEstimate({ candidatesBefore: Date.now(), claimsBefore: 0, now: Date.now() }, Date.now())).toEqual({
      blobs: 0,
      bytes: 0,
      manifests: 0,
    });
  });

  it('keeps a layer another repository still references', async () => {
    const first = await pushImage(t.http, 'gc/one', 'v1', { seed: 'shared' });
    const second = await pushImage(t.http, 'gc/two', 'v1', { seed: 'shared' });
    expect(second.layer.digest).toBe(first.layer.digest);
    expect((await t.http.delete(`/v2/gc/one/manifests/${first.digest}`)).status).toBe(202);
    expect(await outside.collector.collect()).toMatchObject({ objects: 0, manifests: 1 });
    expect((await t.http.get(`/v2/gc/two/blobs/${first.layer.digest}`)).status).toBe(200);
    expect((await t.http.get(`/v2/gc/two/manifests/v1`)).status).toBe(200);
  });

  it('an unlinked blob is collected; a push of it afterwards uploads it anew', async () => {
    const layer = blob('unlinked, then pushed again');
    await pushBlob(t.http, 'gc/again', layer);
    expect((await t.http.delete(`/v2/gc/again/blobs/${layer.digest}`)).status).toBe(202);
    expect(await t.registry.collector.collect({ graceSeconds: 0 })).toMatchObject({ objects: 1 });
    await pushBlob(t.http, 'gc/again', layer);
    const back = await t.http.get(`/v2/gc/again/blobs/${layer.digest}`).buffer(true).parse(binary);
    expect(back.status).toBe(200);
    expect(back.body).toEqual(layer.content);
  });

  it('a mount of a blob being collected falls back to an upload', async () => {
    const layer = blob('mounted while collected');
    await pushBlob(t.http, 'gc/source', layer);
    expect(await t.registry.collector.collect({ graceSeconds: 0 })).toMatchObject({ objects: 1 });
    const mount = await t.http.post(`/v2/gc/target/blobs/uploads/?mount=${layer.digest}&from=gc/source`);
    expect(mount.status).toBe(202);
  });

  it('runs one collector at a time across processes (the lease), and a dead holder loses it when it expires', async () => {
    expect(await outside.lease.acquire('another process', 60_000, Date.now())).toBe(true);
    await expect(t.registry.collector.collect()).rejects.toBeInstanceOf(CollectionRunning);
    expect(await outside.lease.acquire('a third process', 60_000, Date.now())).toBe(false);
    // Expired (its holder died without releasing): the next collector takes it.
    expect(await outside.lease.acquire('a third process', 60_000, Date.now() + 61_000)).toBe(true);
    await outside.lease.release('a third process');
    await expect(t.registry.collector.collect()).resolves.toMatchObject({ dryRun: false });
    // Released after each run: the next one goes ahead.
    await expect(outside.collector.collect()).resolves.toMatchObject({ dryRun: false });
  });

  it('reconciliation deletes stored objects no row knows, older than the grace period, and only then', async () => {
    const orphan = blob('committed by a process that died before linking');
    await outside.blobs.createUpload('orphan-upload');
    const { pipeline } = await import('node:stream/promises');
    const { Readable } = await import('node:stream');
    await pipeline(Readable.from([orphan.content]), await outside.blobs.openWrite('orphan-upload', 0));
    await outside.blobs.commitUpload('orphan-upload', orphan.digest);
    const image = await pushImage(t.http, 'gc/live', 'v1');

    expect(await t.registry.collector.collect({ graceSeconds: 0 })).toMatchObject({ objects: 0 });
    expect(await t.registry.collector.collect({ graceSeconds: 3600, reconcile: true })).toMatchObject({ objects: 0 });
    expect(await stored(orphan.digest)).toBe(true);
    const summary = await t.registry.collector.collect({ graceSeconds: 0, reconcile: true });
    expect(summary).toMatchObject({ objects: 1, bytes: orphan.content.length });
    expect(await stored(orphan.digest)).toBe(false);
    expect(await stored(image.layer.digest)).toBe(true);
    expect((await t.http.get('/v2/gc/live/manifests/v1')).status).toBe(200);
  });

  it('counts what it reclaimed in /metrics', async () => {
    const loose = blob('counted');
    await pushBlob(t.http, 'gc/metrics', loose);
    await t.registry.collector.collect({ graceSeconds: 0 });
    const text = (await t.http.get('/metrics')).text;
    expect(text).toMatch(/^berth_gc_runs_total 1$/m);
    expect(text).toMatch(/^berth_gc_reclaimed_objects_total 1$/m);
    expect(text).toContain(`berth_gc_reclaimed_bytes_total ${loose.content.length}`);
  });
});
