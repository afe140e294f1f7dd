import request from 'supertest';
import { createRegistry, type Registry } from '../../src/composition-root';
import { createLogger } from '../../src/log';
import { CollectionRunning } from '../../src/gc/errors';
import { MediaType } from '../../src/oci/media-types';
import { blob, descriptor, imageManifest, serialize, type TestBlob } from '../support/oci';
import { binary, putManifest } from '../support/http';
import { startTestRegistry, type TestRegistry } from '../support/registry';
import { collectorBeside, type OutsideCollector } from './support';

/** How long the pushers run, and how many pushes each makes at most. */
const RUN_MS = 15_000;
const MAX_PUSHES = 400;
/** Each pusher goes on past RUN_MS until it has pushed this many (a loaded PostgreSQL + S3 run made 8 in 15 s)… */
const MIN_PUSHES = 10;
/** …but not past this, within the test's own timeout. */
const HARD_RUN_MS = 80_000;
const POOL = 6;
const TAGS = 3;

type Agent = ReturnType<typeof request>;

/**
 * The race issue #22 asks for: two replicas (two registries on one database and storage) push manifests whose
 * layers come from a small pool, each layer unreferenced a moment ago (its last manifest deleted and purged),
 * while a third party runs garbage collection back to back with no grace period and a restore window of 0.
 * A push that finds a layer gone (HEAD 404, or the manifest refused MANIFEST_BLOB_UNKNOWN) uploads it again,
 * as a client would. At the end every tagged manifest pulls with every blob intact, and every blob no
 * manifest names is gone from storage.
 */
describe('garbage collection racing pushes', () => {
  let t: TestRegistry;
  let second: Registry;
  let outside: OutsideCollector;
  beforeAll(async () => {
    t = await startTestRegistry();
    second = await createRegistry(t.config, createLogger('silent'));
    outside = await collectorBeside(t.config);
  });
  afterAll(async () => {
    await outside.close();
    await second.close();
    await t.close();
  });

  const pool: TestBlob[] = Array.from({ length: POOL }, (_, i) => blob(`pool layer ${i} `.repeat(64)));
  /** A moving average of how long a push attempt (HEADs, uploads, the manifest) takes on this backend. */
  let attemptMs = 10;
  const stats = { pushes: 0, reuploads: 0, refusedManifests: 0, retriedUploads: 0, sweeps: 0, reclaimed: 0 };

  /** Uploads a blob, retrying while a sweep deletes the same digest (503 with Retry-After). */
  async function upload(http: Agent, name: string, b: TestBlob): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const res = await http
        .post(`/v2/${name}/blobs/uploads/?digest=${b.digest}`)
        .set('Content-Type', 'application/octet-stream')
        .send(b.content);
      if (res.status === 201) return;
      if (res.status !== 503 || attempt > 50) throw new Error(`upload of ${b.digest}: ${res.status} ${res.text}`);
      stats.retriedUploads += 1;
    }
  }

  /** What a client does: HEAD each blob, upload what is missing, PUT the manifest; again from the HEADs if it is refused. */
  async function push(http: Agent, name: string, tag: string, blobs: TestBlob[], content: Buffer): Promise<void> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const started = Date.now();
      for (const b of blobs) {
        if ((await http.head(`/v2/${name}/blobs/${b.digest}`)).status === 200) continue;
        if (attempt > 0 || b !== blobs[0]) stats.reuploads += 1;
        await upload(http, name, b);
      }
      const res = await putManifest(http, name, tag, content, MediaType.OCI_MANIFEST);
      attemptMs = Math.max(1, (attemptMs * 3 + (Date.now() - started)) / 4);
      if (res.status === 201) return;
      const code = (res.body as { errors?: Array<{ code: string }> }).errors?.[0]?.code;
      if (res.status !== 400 || code !== 'MANIFEST_BLOB_UNKNOWN') throw new Error(`manifest ${name}:${tag}: ${res.status} ${res.text}`);
      stats.refusedManifests += 1;
    }
    throw new Error(`manifest ${name}:${tag} refused 200 times`);
  }

  it('never leaves a manifest naming a deleted blob, and leaves no garbage', async () => {
    const name = 'race/app';
    const current = new Map<string, { digest: string; blobs: TestBlob[] }>();
    const configs: TestBlob[] = [];
    const deadline = Date.now() + RUN_MS;
    const hardDeadline = Date.now() + HARD_RUN_MS;
    let pushing = 2;

    async function pusher(worker: number, http: Agent): Promise<void> {
      try {
        for (let i = 0; i < MAX_PUSHES && (Date.now() < deadline || i < MIN_PUSHES) && Date.now() < hardDeadline; i++) {
          const layer = pool[(i * 7 + worker * 3) % POOL] as TestBlob;
          const config = blob(JSON.stringify({ architecture: 'amd64', os: 'linux', worker, i }));
          configs.push(config);
          const manifest = serialize(
            imageManifest({
              config: descriptor(config, MediaType.OCI_CONFIG),
              layers: [descriptor(layer, 'application/vnd.oci.image.layer.v1.tar')],
            }),
          );
          const tag = `w${worker}-${i % TAGS}`;
          // The config first: it is new, so it is uploaded; the pool layer may or may not be there.
          await push(http, name, tag, [config, layer], manifest.content);
          stats.pushes += 1;
          const previous = current.get(tag);
          current.set(tag, { digest: manifest.digest, blobs: [config, layer] });
          // The tag moved: its previous manifest is deleted, so (purged at once) its layer is unreferenced again.
          if (previous) {
            const res = await http.delete(`/v2/${name}/manifests/${previous.digest}`);
            if (res.status !== 202) throw new Error(`delete ${previous.digest}: ${res.status} ${res.text}`);
          }
        }
      } finally {
        pushing -= 1;
      }
    }

    async function sweeper(): Promise<void> {
      while (pushing > 0) {
        try {
          const summary = await outside.collector.collect();
          stats.sweeps += 1;
          stats.reclaimed += summary.objects;
        } catch (err) {
          if (!(err instanceof CollectionRunning)) throw err;
        }
        // Back to back, with a pause of up to one push attempt's time: with no grace period a sweep deletes any
        // blob no manifest names yet, so sweeps with no pause would starve pushes of their blobs for ever (what
        // the grace period prevents outside this test). So a sweep lands anywhere inside an attempt, and
        // attempts still finish. The pause also gives requests their turn on SQLite, which answers synchronously.
        await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * attemptMs)));
      }
    }

    await Promise.all([pusher(0, t.http), pusher(1, request(second.app)), sweeper()]);
    // A last sweep with nothing pushing: whatever is unreferenced now goes.
    stats.reclaimed += (await outside.collector.collect()).objects;
    console.log(`GC race: ${JSON.stringify(stats)}`);

    // A loaded PostgreSQL and S3 run manage ~20 pushes in RUN_MS (embedded ~250): enough to end on every tag moved.
    expect(stats.pushes).toBeGreaterThanOrEqual(2 * MIN_PUSHES);
    expect(stats.sweeps).toBeGreaterThan(5);
    // The race was run for real: sweeps deleted layers that pushes then needed again.
    expect(stats.reclaimed).toBeGreaterThan(0);
    expect(stats.reuploads + stats.refusedManifests).toBeGreaterThan(0);

    const kept = new Set<string>();
    for (const [tag, image] of current) {
      const res = await t.http.get(`/v2/${name}/manifests/${tag}`).set('Accept', MediaType.OCI_MANIFEST);
      expect([tag, res.status]).toEqual([tag, 200]);
      for (const b of image.blobs) {
        kept.add(b.digest);
        const back = await t.http.get(`/v2/${name}/blobs/${b.digest}`).buffer(true).parse(binary);
        expect([tag, b.digest, back.status]).toEqual([tag, b.digest, 200]);
        expect((back.body as Buffer).equals(b.content)).toBe(true);
      }
    }
    const everything = new Map([...configs, ...pool].map((b) => [b.digest, b]));
    for (const digest of everything.keys()) {
      if (kept.has(digest)) continue;
      expect([digest, await outside.blobs.stat(digest)]).toEqual([digest, null]);
      expect((await t.http.head(`/v2/${name}/blobs/${digest}`)).status).toBe(404);
    }
  }, 120_000);
});
