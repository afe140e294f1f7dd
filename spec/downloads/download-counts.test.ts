import request from 'supertest';
import { createRegistry, type Registry } from '../../src/composition-root';
import { createLogger } from '../../src/log';
import { MediaType } from '../../src/oci/media-types';
import { addUser, basic, startAuthRegistry, type AuthTestRegistry } from '../auth/support/auth-registry';
import { getManifest, manifestFor, packageContent, postBlob, putManifest } from '../auth/support/registry-ops';
import { imageIndex, serialize } from '../support/oci';

/**
 * Download counts through the real HTTP API: every manifest GET counts once
 * for the digest it served, whichever process served it, once flushed.
 */
let t: AuthTestRegistry;
let second: Registry | undefined;
const alice = basic('alice', 'alice-password');
const image = manifestFor(packageContent('alice/app'), 'one');

beforeAll(async () => {
  // No timed flush during a test: flushes happen when the test asks (or at close).
  t = await startAuthRegistry({}, { downloads: { counting: true, flushIntervalSeconds: 300, retentionDays: 90 } });
  await addUser(t.identities, 'alice');
  await addUser(t.identities, 'bob');
  const content = packageContent('alice/app');
  for (const b of [content.config, content.layer]) expect((await postBlob(t.http, alice, 'alice/app', b)).status).toBe(201);
  expect((await putManifest(t.http, alice, 'alice/app', 'v1', image.content)).status).toBe(201);
});
afterAll(async () => {
  await second?.close();
  await t.close();
});

const downloads = (auth: string | null) => {
  const req = t.http.get('/api/v1/packages/alice/app/downloads');
  return auth === null ? req : req.set('Authorization', auth);
};
const today = () => new Date().toISOString().slice(0, 10);

/**
 * One flush after the other: on SQLite the two registries are two connections in this one
 * process, which cannot wait on each other's write lock (separate processes can).
 */
async function flushBoth(): Promise<void> {
  await t.registry.downloads.flush();
  await second?.downloads.flush();
  expect(t.registry.downloads.pendingCount + (second?.downloads.pendingCount ?? 0)).toBe(0);
}

describe('download counts', () => {
  it('count exactly the GETs of several concurrent clients, by tag and digest, on two registries sharing one database', async () => {
    second = await createRegistry(t.config, createLogger('silent'));
    const agents = [t.http, request(second.app)];
    // Each process verifies alice's password once (scrypt), then answers from its login cache.
    for (const agent of agents) await getManifest(agent, alice, 'alice/app', 'v1').expect(200);
    await flushBoth();
    const before = (await downloads(alice).expect(200)).body.total as number;
    const gets = Array.from({ length: 60 }, (_, i) =>
      getManifest(agents[i % 2]!, alice, 'alice/app', i % 3 === 0 ? image.digest : 'v1').expect(200),
    );
    // Neither a HEAD nor a 304 sends the manifest: update checks, not downloads.
    const checks = [
      t.http.head('/v2/alice/app/manifests/v1').set('Authorization', alice).set('Accept', MediaType.OCI_MANIFEST).expect(200),
      getManifest(t.http, alice, 'alice/app', 'v1').set('If-None-Match', `"${image.digest}"`).expect(304),
    ];
    await Promise.all([...gets, ...checks]);
    // Nothing is written per GET: the counts wait in each process until its flush.
    expect(t.registry.downloads.pendingCount + second.downloads.pendingCount).toBe(60);
    expect((await downloads(alice).expect(200)).body.total).toBe(before);
    await flushBoth();

    const res = await downloads(alice).expect(200);
    expect(res.body.package).toBe('alice/app');
    expect(res.body.total).toBe(before + 60);
    expect(res.body.versions).toEqual([{ digest: image.digest, total: before + 60 }]);
    expect(res.body.daily).toHaveLength(30);
    expect(res.body.daily[29]).toEqual({ date: today(), count: before + 60 });
    expect(res.body.daily.slice(0, 29).every((d: { count: number }) => d.count === 0)).toBe(true);
  });

  it('count an index and the platform image fetched through it, each for itself', async () => {
    const index = serialize(imageIndex([image.descriptor({ platform: { os: 'linux', architecture: 'amd64' } })]));
    expect((await putManifest(t.http, alice, 'alice/app', 'multi', index.content).set('Content-Type', MediaType.OCI_INDEX)).status).toBe(
      201,
    );
    const before = new Map<string, number>(
      (await downloads(alice).expect(200)).body.versions.map((v: { digest: string; total: number }) => [v.digest, v.total]),
    );
    await t.http.get('/v2/alice/app/manifests/multi').set('Authorization', alice).set('Accept', MediaType.OCI_INDEX).expect(200);
    await getManifest(t.http, alice, 'alice/app', image.digest).expect(200);
    await t.registry.downloads.flush();
    const after = (await downloads(alice).expect(200)).body;
    const totals = new Map(after.versions.map((v: { digest: string; total: number }) => [v.digest, v.total]));
    expect(totals.get(index.digest)).toBe(1);
    expect(totals.get(image.digest)).toBe((before.get(image.digest) ?? 0) + 1);
  });

  it('are shown to whoever may read the package, and to nobody else', async () => {
    await downloads(basic('bob', 'bob-password')).expect(404);
    await downloads(null).expect(404);
    await t.http.get('/api/v1/packages/alice/nothing/downloads').set('Authorization', alice).expect(404);
    await t.http.patch('/api/v1/packages/alice/app').set('Authorization', alice).send({ visibility: 'public' }).expect(200);
    expect((await downloads(null).expect(200)).body.package).toBe('alice/app');
  });

  it('are not lost at shutdown: close writes what is pending', async () => {
    const before = (await downloads(alice).expect(200)).body.total as number;
    const other = await createRegistry(t.config, createLogger('silent'));
    await getManifest(request(other.app), alice, 'alice/app', 'v1').expect(200);
    await other.close();
    expect((await downloads(alice).expect(200)).body.total).toBe(before + 1);
  });

  it('count nothing on a registry configured not to (BERTH_DOWNLOAD_COUNTS=false)', async () => {
    const before = (await downloads(alice).expect(200)).body.total as number;
    const quiet = await createRegistry({ ...t.config, downloads: { ...t.config.downloads, counting: false } }, createLogger('silent'));
    try {
      for (let i = 0; i < 3; i++) await getManifest(request(quiet.app), alice, 'alice/app', 'v1').expect(200);
      expect(quiet.downloads.pendingCount).toBe(0);
    } finally {
      await quiet.close();
    }
    expect((await downloads(alice).expect(200)).body.total).toBe(before);
  });
});
