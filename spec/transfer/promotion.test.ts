import { MediaType } from '../../src/oci/media-types';
import { addUser, basic, startAuthRegistry, type AuthTestRegistry } from '../auth/support/auth-registry';
import { manifestFor, packageContent, postBlob } from '../auth/support/registry-ops';
import { descriptor, EMPTY_CONFIG, imageIndex, imageManifest, serialize } from '../support/oci';

/**
 * Promotion inside Berth (issue #21): a pre-release in a private package promoted into another package,
 * platforms and (on request) signatures along, every blob mounted, the digest the same; rights checked on both.
 */
let t: AuthTestRegistry;
const alice = basic('alice', 'alice-password');
const bob = basic('bob', 'bob-password');
const content = packageContent('alice/pre');
const amd = manifestFor(content, 'amd64');
const arm = manifestFor(content, 'arm64');
const index = serialize(
  imageIndex([
    amd.descriptor({ platform: { os: 'linux', architecture: 'amd64' } }),
    arm.descriptor({ platform: { os: 'linux', architecture: 'arm64' } }),
  ]),
);
const signature = serialize(
  imageManifest({
    artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
    config: descriptor(EMPTY_CONFIG, MediaType.OCI_EMPTY),
    subject: index.descriptor(),
  }),
);

async function put(name: string, reference: string, m: { content: Buffer; mediaType: string }) {
  const res = await t.http
    .put(`/v2/${name}/manifests/${reference}`)
    .set('Authorization', alice)
    .set('Content-Type', m.mediaType)
    .serialize((body: Buffer) => body as unknown as string)
    .send(m.content);
  expect(res.status).toBe(201);
}

beforeAll(async () => {
  t = await startAuthRegistry();
  await addUser(t.identities, 'alice');
  await addUser(t.identities, 'bob');
  for (const b of [content.config, content.layer, EMPTY_CONFIG]) expect((await postBlob(t.http, alice, 'alice/pre', b)).status).toBe(201);
  await put('alice/pre', amd.digest, amd);
  await put('alice/pre', arm.digest, arm);
  await put('alice/pre', 'rc1', index);
  await put('alice/pre', signature.digest, signature);
});
afterAll(() => t.close());

const promote = (auth: string | null, from: string, body: object) => {
  const req = t.http.post(`/api/v1/packages/${from}/promote`).send(body);
  return auth === null ? req : req.set('Authorization', auth);
};

describe('promotion', () => {
  it('copies the index, its platforms and its signature under the same digests, mounting every blob', async () => {
    const res = await promote(alice, 'alice/pre', { source: 'rc1', target: 'alice/release:1.0', referrers: true });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      digest: index.digest,
      target: 'alice/release:1.0',
      manifests: 4,
      blobsMounted: 3,
      blobsSent: 0,
      blobsPresent: 0,
      referrers: [signature.digest],
    });
    const got = await t.http.get('/v2/alice/release/manifests/1.0').set('Authorization', alice).set('Accept', MediaType.OCI_INDEX);
    expect(got.headers['docker-content-digest']).toBe(index.digest);
    for (const m of [amd, arm]) {
      expect(
        (await t.http.head(`/v2/alice/release/manifests/${m.digest}`).set('Authorization', alice).set('Accept', MediaType.OCI_MANIFEST))
          .status,
      ).toBe(200);
    }
    for (const b of [content.config, content.layer])
      expect((await t.http.head(`/v2/alice/release/blobs/${b.digest}`).set('Authorization', alice)).status).toBe(200);
    const referrers = await t.http.get(`/v2/alice/release/referrers/${index.digest}`).set('Authorization', alice);
    expect(referrers.body.manifests.map((d: { digest: string }) => d.digest)).toEqual([signature.digest]);
  });

  it('into a public package: anonymous pulls work there, the source stays private', async () => {
    expect((await promote(alice, 'alice/pre', { source: index.digest, target: 'alice/public:latest' })).status).toBe(201);
    expect((await t.http.patch('/api/v1/packages/alice/public').set('Authorization', alice).send({ visibility: 'public' })).status).toBe(
      200,
    );
    const anonymous = await t.http.get('/v2/alice/public/manifests/latest').set('Accept', MediaType.OCI_INDEX);
    expect(anonymous.status).toBe(200);
    expect(anonymous.headers['docker-content-digest']).toBe(index.digest);
    expect((await t.http.get(`/v2/alice/public/blobs/${content.layer.digest}`)).status).toBe(200);
    expect((await t.http.get(`/v2/alice/public/referrers/${index.digest}`)).body.manifests).toEqual([]); // not asked for
    expect((await t.http.get('/v2/alice/pre/manifests/rc1').set('Accept', MediaType.OCI_INDEX)).status).toBe(401);
  });

  it('needs pull on the source and push on the target; bad requests get 400, an unknown source 404', async () => {
    expect((await promote(null, 'alice/pre', { source: 'rc1', target: 'alice/x:1' })).status).toBe(401);
    expect([403, 404]).toContain((await promote(bob, 'alice/pre', { source: 'rc1', target: 'bob/x:1' })).status);
    expect((await promote(bob, 'alice/public', { source: 'latest', target: 'alice/stolen:1' })).status).toBe(403);
    expect((await promote(bob, 'alice/public', { source: 'latest', target: 'bob/copy:1' })).status).toBe(201);
    expect((await promote(alice, 'alice/pre', { source: 'rc1', target: 'no-tag' })).status).toBe(400);
    expect((await promote(alice, 'alice/pre', { source: 'rc1', target: 'alice/x:1', referrers: 'yes' })).status).toBe(400);
    expect((await promote(alice, 'alice/pre', { source: 'nope', target: 'alice/x:1' })).status).toBe(404);
  });
});
