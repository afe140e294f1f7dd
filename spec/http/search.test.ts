import { DEFAULT_CONFIG } from '../../src/config';
import { MediaType } from '../../src/oci/media-types';
import { expectApiError } from '../support/http';
import { blob, descriptor, imageIndex, imageManifest, serialize, type TestBlob } from '../support/oci';
import { startTestRegistry, type TestRegistry } from '../support/registry';

/**
 * GET /api/v1/search/packages over real pushes: labels and annotations as
 * hostile pushers write them, access filtered before counting (anonymous,
 * member, outsider, collaborator, CI token), the index following visibility
 * changes, deletes and restores, and bad input answered 400/422.
 */
const ADMIN_PASSWORD = 'admin-password-1';
let t: TestRegistry;
const password = (name: string) => (name === 'admin' ? ADMIN_PASSWORD : `${name}-password`);

const HOSTILE = `<script>alert(1)</script> "><img src=x onerror=alert(2)> Internal billing API`;

async function pushBlobAs(user: string, name: string, b: TestBlob): Promise<void> {
  const res = await t.http
    .post(`/v2/${name}/blobs/uploads/?digest=${b.digest}`)
    .auth(user, password(user))
    .set('Content-Type', 'application/octet-stream')
    .send(b.content);
  expect(res.status).toBe(201);
}

async function pushManifestAs(user: string, name: string, reference: string | null, manifest: Record<string, unknown>) {
  const s = serialize(manifest);
  const res = await t.http
    .put(`/v2/${name}/manifests/${reference ?? s.digest}`)
    .auth(user, password(user))
    .set('Content-Type', s.mediaType)
    .serialize((body: Buffer) => body as unknown as string)
    .send(s.content);
  expect(res.status).toBe(201);
  return s;
}

/** An image whose config carries `labels` (as `docker build --label` writes them) for `arch`. */
async function pushImage(user: string, name: string, tag: string | null, labels: Record<string, string>, arch = 'amd64') {
  const config = blob(
    JSON.stringify({ architecture: arch, os: 'linux', config: { Labels: labels }, rootfs: { type: 'layers', diff_ids: [] } }),
  );
  const layer = blob(`layer of ${name} ${arch} ${JSON.stringify(labels)}`);
  await pushBlobAs(user, name, config);
  await pushBlobAs(user, name, layer);
  return pushManifestAs(
    user,
    name,
    tag,
    imageManifest({
      config: descriptor(config, MediaType.OCI_CONFIG),
      layers: [descriptor(layer, 'application/vnd.oci.image.layer.v1.tar')],
    }),
  );
}

interface Found {
  total_count: number;
  items: Array<{ name: string; description: string | null; visibility: string; latest_tag: string | null; html_url: string }>;
}

/** Searches as `who` (a user name, `anonymous`, or a bearer token) once indexing has caught up. */
async function search(who: string, q: string): Promise<Found> {
  await t.registry.search.idle();
  let req = t.http.get('/api/v1/search/packages').query({ q });
  if (who.startsWith('berth_')) req = req.set('Authorization', `Bearer ${who}`);
  else if (who !== 'anonymous') req = req.auth(who, password(who));
  const res = await req;
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  return res.body as Found;
}

const names = async (who: string, q: string) => (await search(who, q)).items.map((i) => i.name);

let webIndexDigest: string;
let ciToken: string;

beforeAll(async () => {
  t = await startTestRegistry({ auth: { ...DEFAULT_CONFIG.auth, mode: 'token', adminPassword: ADMIN_PASSWORD } });
  const admin = (path: string, body: object) => t.http.post(path).auth('admin', ADMIN_PASSWORD).send(body);
  for (const name of ['alice', 'bob', 'carol', 'dave'])
    expect((await admin('/api/v1/users', { name, password: password(name) })).status).toBe(201);
  const asAlice = {
    post: (path: string, body: object) => t.http.post(path).auth('alice', password('alice')).send(body),
    put: (path: string, body: object) => t.http.put(path).auth('alice', password('alice')).send(body),
    patch: (path: string, body: object) => t.http.patch(path).auth('alice', password('alice')).send(body),
  };
  expect((await asAlice.post('/api/v1/orgs', { name: 'acme' })).status).toBe(201);
  expect((await asAlice.put('/api/v1/orgs/acme/members/bob', { role: 'member' })).status).toBe(200);

  // A private package of the organisation whose labels a hostile pusher wrote.
  await pushImage(
    'alice',
    'acme/billing-api',
    'v1',
    Object.fromEntries([
      ['org.opencontainers.image.description', HOSTILE],
      ['org.opencontainers.image.licenses', 'MIT'],
      // PostgreSQL refuses NUL in text: the indexer drops it rather than failing the package.
      ['org.opencontainers.image.title', 'Billing\u0000API'],
      ['__proto__', 'polluted'],
      ['com.example.weird', "'; DROP TABLE search_documents; --"],
    ]),
  );
  // A public two-platform index, tagged latest and v2.
  const amd = await pushImage('alice', 'acme/web', null, { 'org.opencontainers.image.vendor': 'Acme Corp' }, 'amd64');
  const arm = await pushImage('alice', 'acme/web', null, { 'org.opencontainers.image.vendor': 'Acme Corp' }, 'arm64');
  const index = imageIndex([
    amd.descriptor({ platform: { os: 'linux', architecture: 'amd64' } }),
    arm.descriptor({ platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }),
  ]);
  webIndexDigest = (await pushManifestAs('alice', 'acme/web', 'latest', index)).digest;
  await pushManifestAs('alice', 'acme/web', 'v2', index);
  expect((await asAlice.patch('/api/v1/packages/acme/web', { visibility: 'public' })).status).toBe(200);
  // A private repository with a linked package; dave collaborates on it.
  expect((await asAlice.post('/api/v1/repositories', { owner: 'acme', name: 'site', visibility: 'private' })).status).toBe(201);
  await pushImage('alice', 'acme/site-image', 'v1', {});
  expect((await asAlice.put('/api/v1/packages/acme/site-image/link', { repository: 'acme/site' })).status).toBe(200);
  expect((await asAlice.put('/api/v1/repositories/acme/site/collaborators/dave', { role: 'read' })).status).toBe(200);
  const minted = await asAlice.post('/api/v1/repositories/acme/site/ci-tokens', {});
  expect(minted.status).toBe(201);
  ciToken = minted.body.token as string;
  // alice's own private package.
  await pushImage('alice', 'alice/notes', 'latest', { 'org.opencontainers.image.description': 'my notes' });
});
afterAll(() => t.close());

describe('package search over HTTP', () => {
  it('finds a public package for anyone, with its description and latest tag', async () => {
    const found = await search('anonymous', 'web');
    expect(found.total_count).toBe(1);
    expect(found.items[0]).toEqual({
      name: 'acme/web',
      owner: 'acme',
      visibility: 'public',
      description: null,
      html_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/orgs\/acme\/packages\/container\/package\/web$/),
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      downloads: 0,
      latest_tag: 'latest',
    });
    expect(await names('anonymous', 'acme corp')).toEqual(['acme/web']);
  });

  it('gives an outsider nothing of a private package, even by its exact name', async () => {
    for (const who of ['anonymous', 'carol']) {
      for (const q of ['acme/billing-api', 'billing-api', 'billing', 'internal', 'label:org.opencontainers.image.licenses=MIT']) {
        expect(await search(who, q)).toEqual({ total_count: 0, items: [] });
      }
    }
  });

  it("shows an organisation's private package to its members, hostile labels as plain data", async () => {
    const found = await search('bob', 'billing-api');
    expect(found.total_count).toBe(1);
    expect(found.items[0]).toMatchObject({ name: 'acme/billing-api', visibility: 'private', description: HOSTILE, latest_tag: 'v1' });
    expect(await names('bob', 'label:org.opencontainers.image.licenses=MIT')).toEqual(['acme/billing-api']);
    expect(await names('bob', 'label:__proto__=polluted')).toEqual(['acme/billing-api']);
    expect(await names('bob', `label:"com.example.weird='; DROP TABLE search_documents; --"`)).toEqual(['acme/billing-api']);
    expect(await names('bob', `label:"com.example.weird='; DROP TABLE"`)).toEqual([]);
    expect(await names('bob', 'BillingAPI')).toEqual(['acme/billing-api']);
    expect(await names('bob', 'billing is:private org:acme')).toEqual(['acme/billing-api']);
    expect(await names('bob', 'billing is:public')).toEqual([]);
    expect(await names('alice', 'notes')).toEqual(['alice/notes']);
    expect(await names('bob', 'notes')).toEqual([]);
  });

  it('shows a package linked to a private repository to its collaborators and its CI token', async () => {
    expect(await names('dave', 'site-image')).toEqual(['acme/site-image']);
    expect(await names(ciToken, 'site-image')).toEqual(['acme/site-image']);
    expect(await names(ciToken, 'billing-api')).toEqual([]);
    expect(await names('carol', 'site-image')).toEqual([]);
    expect(await names('dave', 'repo:acme/site')).toEqual(['acme/site-image']);
  });

  it('filters by platform and tag, and finds a manifest by a digest prefix', async () => {
    expect(await names('anonymous', 'platform:linux/arm64')).toEqual(['acme/web']);
    expect(await names('anonymous', 'platform:linux/arm64/v8')).toEqual(['acme/web']);
    expect(await names('anonymous', 'platform:linux/s390x')).toEqual([]);
    expect(await names('anonymous', 'tag:v2')).toEqual(['acme/web']);
    expect(await names('anonymous', webIndexDigest.slice(0, 'sha256:'.length + 12))).toEqual(['acme/web']);
    expect(await names('anonymous', webIndexDigest.slice('sha256:'.length, 'sha256:'.length + 16))).toEqual(['acme/web']);
  });

  it('follows visibility changes, deletes and restores', async () => {
    const patch = (visibility: string) =>
      t.http.patch('/api/v1/packages/acme/billing-api').auth('alice', password('alice')).send({ visibility });
    expect((await patch('public')).status).toBe(200);
    expect(await names('carol', 'billing-api')).toEqual(['acme/billing-api']);
    expect((await patch('private')).status).toBe(200);
    expect(await names('carol', 'billing-api')).toEqual([]);

    const pkg = '/api/v3/orgs/acme/packages/container/billing-api';
    expect((await t.http.delete(pkg).auth('alice', password('alice'))).status).toBe(204);
    expect(await names('alice', 'billing-api')).toEqual([]);
    expect((await t.http.post(`${pkg}/restore`).auth('alice', password('alice'))).status).toBe(204);
    expect(await names('alice', 'billing-api')).toEqual(['acme/billing-api']);

    // A repository turned public shows its linked packages to everyone.
    const repo = (visibility: string) =>
      t.http.patch('/api/v1/repositories/acme/site').auth('alice', password('alice')).send({ visibility });
    expect((await repo('public')).status).toBe(200);
    expect(await names('anonymous', 'site-image')).toEqual(['acme/site-image']);
    expect((await repo('private')).status).toBe(200);
    expect(await names('anonymous', 'site-image')).toEqual([]);
  });

  it('answers bad input with Berth’s error JSON, never a 500', async () => {
    const get = (query: string) => t.http.get(`/api/v1/search/packages?${query}`);
    expectApiError(await get('q=web&per_page=101'), 400, 'REQUEST_INVALID');
    expectApiError(await get('q=web&per_page=0'), 400, 'REQUEST_INVALID');
    expectApiError(await get('q=web&page=0'), 400, 'REQUEST_INVALID');
    expectApiError(await get('q=web&page=1e3'), 400, 'REQUEST_INVALID');
    expectApiError(await get('q=a&q=b'), 400, 'REQUEST_INVALID');
    expectApiError(await get(`q=${'a'.repeat(257)}`), 422, 'QUERY_INVALID');
    expectApiError(await get('q=is%3Abanana'), 422, 'QUERY_INVALID');
    expectApiError(await get('q=web%00'), 422, 'QUERY_INVALID');
    for (const q of ['%F0%9F%90%B3', '%ED%A0%80', '%22%22%22', '*', 'NEAR(a b)', "'", '%5C', 'a:b:c', 'sha256:', 'label:=x']) {
      const res = await get(`q=${q}`);
      expect([200, 422]).toContain(res.status);
    }
    const paged = await get('q=&per_page=100&page=1000');
    expect(paged.status).toBe(200);
    expect(paged.body).toEqual({ total_count: 1, items: [] });
  });
});

describe('package search in open mode', () => {
  it('finds every pushed package for everyone; the rest of /api/v1 stays unserved', async () => {
    const open = await startTestRegistry();
    try {
      const config = blob(
        JSON.stringify({ os: 'linux', architecture: 'riscv64', config: { Labels: { 'org.opencontainers.image.title': 'Tiny' } } }),
      );
      for (const b of [config]) {
        const res = await open.http
          .post(`/v2/anyone/tiny/blobs/uploads/?digest=${b.digest}`)
          .set('Content-Type', 'application/octet-stream')
          .send(b.content);
        expect(res.status).toBe(201);
      }
      const s = serialize(imageManifest({ config: descriptor(config, MediaType.OCI_CONFIG) }));
      const put = await open.http
        .put('/v2/anyone/tiny/manifests/edge')
        .set('Content-Type', s.mediaType)
        .serialize((body: Buffer) => body as unknown as string)
        .send(s.content);
      expect(put.status).toBe(201);
      await open.registry.search.idle();
      const found = await open.http.get('/api/v1/search/packages').query({ q: 'tiny platform:linux/riscv64' });
      expect(found.status).toBe(200);
      expect(found.body).toMatchObject({
        total_count: 1,
        items: [{ name: 'anyone/tiny', owner: 'anyone', visibility: 'public', latest_tag: 'edge' }],
      });
      expectApiError(await open.http.get('/api/v1/packages'), 404, 'NOT_FOUND');
    } finally {
      await open.close();
    }
  });
});
