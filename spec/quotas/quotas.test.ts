import { expectApiError, expectOciError } from '../support/http';
import { blob, descriptor, imageManifest, serialize, type TestBlob } from '../support/oci';
import { MediaType } from '../../src/oci/media-types';
import { ADMIN_PASSWORD, addUser, basic, startAuthRegistry, type AuthTestRegistry } from '../auth/support/auth-registry';
import { deleteManifest, getBlob, postBlob, putManifest } from '../auth/support/registry-ops';
import { collectorBeside } from '../gc/support';

/** Quotas (issue #22) through the registry and management APIs: bytes per owner, versions per package. */
let t: AuthTestRegistry;
const admin = basic('admin', ADMIN_PASSWORD);
const alice = basic('alice', 'alice-password');
const bob = basic('bob', 'bob-password');

const api = (auth: string | null) => ({
  get: (path: string) => (auth === null ? t.http.get(path) : t.http.get(path).set('Authorization', auth)),
  put: (path: string, body: object) =>
    t.http
      .put(path)
      .set('Authorization', auth ?? '')
      .send(body),
});

beforeAll(async () => {
  t = await startAuthRegistry();
  await addUser(t.identities, 'alice');
  await addUser(t.identities, 'bob');
  for (const org of ['acme', 'race', 'gcorg', 'vers'])
    expect((await t.http.post('/api/v1/orgs').set('Authorization', alice).send({ name: org })).status).toBe(201);
});
afterAll(() => t.close());

async function setLimits(owner: string, maxBytes: number | null, maxVersions: number | null = null): Promise<void> {
  const res = await api(admin).put(`/api/v1/orgs/${owner}/quota`, { max_bytes: maxBytes, max_versions_per_package: maxVersions });
  expect(res.status).toBe(200);
}

async function usedBytes(owner: string): Promise<number> {
  const res = await api(alice).get(`/api/v1/orgs/${owner}/quota`);
  expect(res.status).toBe(200);
  return res.body.used_bytes as number;
}

/**
 * The owner's bytes from scratch, independently of the index's code: the distinct blobs linked to its repositories.
 * (repositories, repository_blobs and blobs are the metadata index's tables; only this test reads them directly.)
 */
async function recomputed(owner: string): Promise<number> {
  const row = await t.db.get<{ bytes: number | string | null }>(
    `SELECT SUM(b.size) AS bytes FROM blobs b WHERE b.digest IN (
       SELECT l.digest FROM repository_blobs l JOIN repositories r ON r.id = l.repository_id WHERE r.name LIKE ?)`,
    [`${owner}/%`],
  );
  return Number(row?.bytes ?? 0);
}

async function expectExact(owner: string): Promise<number> {
  const used = await usedBytes(owner);
  expect({ owner, used }).toEqual({ owner, used: await recomputed(owner) });
  return used;
}

function sized(seed: string, size: number): TestBlob {
  return blob(Buffer.concat([Buffer.from(`${seed}:`), Buffer.alloc(size - seed.length - 1, 120)]));
}

/** A chunked upload: POST, PATCH the bytes, then the PUT that commits; returns the PUT's answer and its URL. */
async function chunkedUpload(name: string, b: TestBlob, auth: string) {
  const started = await t.http.post(`/v2/${name}/blobs/uploads/`).set('Authorization', auth);
  expect(started.status).toBe(202);
  const patched = await t.http
    .patch(started.headers.location as string)
    .set('Authorization', auth)
    .set('Content-Type', 'application/octet-stream')
    .send(b.content);
  expect(patched.status).toBe(202);
  const commit = `${patched.headers.location as string}${(patched.headers.location as string).includes('?') ? '&' : '?'}digest=${b.digest}`;
  return { commit, res: await t.http.put(commit).set('Authorization', auth) };
}

function manifestOver(config: TestBlob, layers: TestBlob[], seed: string) {
  return serialize(
    imageManifest({
      config: descriptor(config, MediaType.OCI_CONFIG),
      layers: layers.map((l) => descriptor(l, 'application/vnd.oci.image.layer.v1.tar')),
      annotations: { 'org.example.seed': seed },
    }),
  );
}

describe('the quota API', () => {
  it('shows usage and limits to members and site administrators; only site administrators set limits', async () => {
    const shown = await api(alice).get('/api/v1/orgs/acme/quota');
    expect(shown.status).toBe(200);
    expect(shown.body).toEqual({
      owner: 'acme',
      used_bytes: 0,
      max_bytes: null,
      max_versions_per_package: null,
      own_limits: null,
      packages: [],
    });
    expectApiError(await api(bob).get('/api/v1/orgs/acme/quota'), 403, 'FORBIDDEN');
    expectApiError(await api(null).get('/api/v1/orgs/acme/quota'), 401, 'UNAUTHORIZED');
    expectApiError(await api(alice).put('/api/v1/orgs/acme/quota', { max_bytes: 1, max_versions_per_package: null }), 403, 'FORBIDDEN');
    expectApiError(
      await api(admin).put('/api/v1/orgs/acme/quota', { max_bytes: -1, max_versions_per_package: null }),
      400,
      'REQUEST_INVALID',
    );
    expectApiError(await api(admin).get('/api/v1/orgs/nobody/quota'), 404, 'ACCOUNT_NOT_FOUND');
    expectApiError(await api(admin).get('/api/v1/users/acme/quota'), 404, 'ACCOUNT_NOT_FOUND');
    expect((await api(bob).get('/api/v1/users/bob/quota')).body).toMatchObject({ owner: 'bob', used_bytes: 0 });
    expectApiError(await api(bob).get('/api/v1/users/alice/quota'), 403, 'FORBIDDEN');

    const set = await api(admin).put('/api/v1/users/bob/quota', { max_bytes: 1000, max_versions_per_package: 3 });
    expect(set.body).toMatchObject({
      max_bytes: 1000,
      max_versions_per_package: 3,
      own_limits: { max_bytes: 1000, max_versions_per_package: 3 },
    });
    const forgotten = await api(admin).put('/api/v1/users/bob/quota', { max_bytes: null, max_versions_per_package: null });
    expect(forgotten.body).toMatchObject({ max_bytes: null, max_versions_per_package: null, own_limits: null });
  });
});

describe('storage bytes per owner', () => {
  it('counts a blob shared by two repositories once', async () => {
    const shared = sized('shared', 300);
    const own = sized('own', 200);
    expect((await postBlob(t.http, alice, 'acme/one', shared)).status).toBe(201);
    expect((await postBlob(t.http, alice, 'acme/two', shared)).status).toBe(201);
    expect((await postBlob(t.http, alice, 'acme/two', own)).status).toBe(201);
    expect(await expectExact('acme')).toBe(500);
  });

  it('refuses a commit over the quota with DENIED and the figures, shows nothing of it, and takes the same PUT once raised', async () => {
    await setLimits('acme', 600);
    const big = sized('big', 150);
    const { commit, res } = await chunkedUpload('acme/three', big, alice);
    expectOciError(res, 403, 'DENIED');
    const message = (res.body as { errors: Array<{ message: string }> }).errors[0]?.message;
    expect(message).toBe('storage quota of acme exceeded: 500 bytes used, 600 allowed; this blob needs 150 more');
    expect((await getBlob(t.http, alice, 'acme/three', big.digest)).status).toBe(404);
    expect((await t.http.head(`/v2/acme/one/blobs/${big.digest}`).set('Authorization', alice)).status).toBe(404);
    expect(await expectExact('acme')).toBe(500);
    // A blob the owner has already costs nothing: mounting or pushing it again is fine at the limit.
    expect((await postBlob(t.http, alice, 'acme/three', sized('shared', 300))).status).toBe(201);
    // A mount over the quota is not done: the client gets an upload session instead (whose commit says why).
    const mounted = await t.http.post(`/v2/bob/app/blobs/uploads/?mount=${big.digest}&from=acme/one`).set('Authorization', bob);
    expect(mounted.status).toBe(202);

    await setLimits('acme', 650);
    expect((await t.http.put(commit).set('Authorization', alice)).status).toBe(201);
    expect((await getBlob(t.http, alice, 'acme/three', big.digest)).status).toBe(200);
    expect(await expectExact('acme')).toBe(650);
    const full = await api(alice).get('/api/v1/orgs/acme/quota');
    expect(full.body).toMatchObject({ used_bytes: 650, max_bytes: 650, own_limits: { max_bytes: 650, max_versions_per_package: null } });
  });

  it('never lets parallel pushes near the limit exceed it', async () => {
    const size = 100;
    const pushes = 12;
    const room = 5;
    const rounds = 4;
    let accepted = 0;
    for (let round = 0; round < rounds; round++) {
      // Room for `room` more blobs and half of another; then `pushes` new blobs at once, over three repositories.
      await setLimits('race', size * (accepted + room) + size / 2);
      const results = await Promise.all(
        Array.from({ length: pushes }, (_, i) => postBlob(t.http, alice, `race/r${i % 3}`, sized(`race-${round}-${i}`, size))),
      );
      const statuses = results.map((r) => r.status);
      expect({ round, created: statuses.filter((s) => s === 201).length, refused: statuses.filter((s) => s === 403).length }).toEqual({
        round,
        created: room,
        refused: pushes - room,
      });
      for (const refused of results.filter((r) => r.status === 403)) expectOciError(refused, 403, 'DENIED');
      accepted += room;
      expect(await expectExact('race')).toBe(size * accepted);
    }
    console.log(`quota race: ${rounds} rounds of ${pushes} parallel pushes with room for ${room}: ${accepted} accepted, usage exact`);
  });

  it('stays exact after pushes, deletes and a GC run (recomputed from scratch)', async () => {
    const config = sized('gc-config', 50);
    const layer = sized('gc-layer', 400);
    const stray = sized('gc-stray', 70);
    for (const b of [config, layer]) expect((await postBlob(t.http, alice, 'gcorg/app', b)).status).toBe(201);
    expect((await postBlob(t.http, alice, 'gcorg/lib', layer)).status).toBe(201);
    expect((await postBlob(t.http, alice, 'gcorg/lib', stray)).status).toBe(201);
    expect((await postBlob(t.http, bob, 'bob/copy', stray)).status).toBe(201);
    const m = manifestOver(config, [layer], 'gc');
    expect((await putManifest(t.http, alice, 'gcorg/app', 'v1', m.content)).status).toBe(201);
    expect(await expectExact('gcorg')).toBe(520);

    // A blob DELETE unlinks: the layer stays paid for by gcorg/app.
    expect((await t.http.delete(`/v2/gcorg/lib/blobs/${layer.digest}`).set('Authorization', alice)).status).toBe(202);
    expect(await expectExact('gcorg')).toBe(520);
    // A soft delete changes no link (it can be restored): nothing freed yet.
    expect((await deleteManifest(t.http, alice, 'gcorg/app', m.digest)).status).toBe(202);
    expect(await expectExact('gcorg')).toBe(520);

    // GC purges the deleted version and sweeps what nothing references any more, in every owner.
    const gc = await collectorBeside(t.config, { graceSeconds: 0, restoreWindowDays: 0 });
    try {
      await gc.collector.collect({ graceSeconds: 0 });
    } finally {
      await gc.close();
    }
    expect(await expectExact('gcorg')).toBe(0);
    expect((await api(bob).get('/api/v1/users/bob/quota')).body.used_bytes).toBe(await recomputed('bob'));
  });
});

describe('versions per package', () => {
  it('refuses a push adding a version past the limit with DENIED, before linking it; a delete makes room', async () => {
    await setLimits('vers', null, 2);
    const config = sized('v-config', 40);
    const layer = sized('v-layer', 40);
    for (const b of [config, layer]) expect((await postBlob(t.http, alice, 'vers/app', b)).status).toBe(201);
    const v1 = manifestOver(config, [layer], 'v1');
    const v2 = manifestOver(config, [layer], 'v2');
    const v3 = manifestOver(config, [layer], 'v3');
    expect((await putManifest(t.http, alice, 'vers/app', 'v1', v1.content)).status).toBe(201);
    expect((await putManifest(t.http, alice, 'vers/app', 'v2', v2.content)).status).toBe(201);
    const refused = await putManifest(t.http, alice, 'vers/app', 'v3', v3.content);
    expectOciError(refused, 403, 'DENIED');
    expect((refused.body as { errors: Array<{ message: string }> }).errors[0]?.message).toBe(
      'version quota of vers/app exceeded: it has 2 versions, 2 allowed; delete one to push another',
    );
    expect((await t.http.get(`/v2/vers/app/manifests/${v3.digest}`).set('Authorization', alice)).status).toBe(404);
    // Another tag on a version already there adds none.
    expect((await putManifest(t.http, alice, 'vers/app', 'latest', v2.content)).status).toBe(201);
    // Another package of the owner has its own count.
    for (const b of [config, layer]) expect((await postBlob(t.http, alice, 'vers/other', b)).status).toBe(201);
    expect((await putManifest(t.http, alice, 'vers/other', 'v3', v3.content)).status).toBe(201);
    const shown = await api(alice).get('/api/v1/orgs/vers/quota');
    expect(shown.body.packages).toEqual([
      { name: 'vers/app', versions: 2 },
      { name: 'vers/other', versions: 1 },
    ]);

    expect((await deleteManifest(t.http, alice, 'vers/app', v1.digest)).status).toBe(202);
    expect((await putManifest(t.http, alice, 'vers/app', 'v3', v3.content)).status).toBe(201);
  });
});
