import http from 'node:http';
import { MediaType } from '../../src/oci/media-types';
import { addUser, basic, startAuthRegistry, type AuthTestRegistry } from '../auth/support/auth-registry';
import { expectApiError, pushBlob, putManifest } from '../support/http';
import { blob, descriptor, EMPTY_CONFIG, imageIndex, imageManifest, serialize } from '../support/oci';
import { startTestRegistry, type TestRegistry } from '../support/registry';
import { startCountingUpstream, type CountingUpstream } from '../proxy/upstream-server';

/**
 * Promotion to another registry (issue #21): a two-platform index with a signature, from an open-mode Berth to
 * a second Berth with token auth, through its token flow with credentials given for the request only.
 */
let source: TestRegistry;
let target: AuthTestRegistry;
let server: CountingUpstream;
/** Blob PUTs whose digest is listed here are answered 500 by the target's front. */
const failing = new Set<string>();
const alice = basic('alice', 'alice-password');

const layers = ['amd64', 'arm64'].map((arch) => ({
  arch,
  config: blob(JSON.stringify({ architecture: arch, os: 'linux' })),
  layer: blob(`layer ${arch}`),
}));
const platforms = layers.map((p) =>
  serialize(
    imageManifest({
      config: descriptor(p.config, MediaType.OCI_CONFIG),
      layers: [descriptor(p.layer, 'application/vnd.oci.image.layer.v1.tar')],
    }),
  ),
);
const index = serialize(imageIndex(platforms.map((m, i) => m.descriptor({ platform: { os: 'linux', architecture: layers[i]!.arch } }))));
const signature = serialize(
  imageManifest({
    artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
    config: descriptor(EMPTY_CONFIG, MediaType.OCI_EMPTY),
    subject: index.descriptor(),
  }),
);

beforeAll(async () => {
  source = await startTestRegistry({ webhooks: { allowedHosts: '127.0.0.1' } });
  for (const p of layers) for (const b of [p.config, p.layer]) await pushBlob(source.http, 'acme/pre', b);
  await pushBlob(source.http, 'acme/pre', EMPTY_CONFIG);
  for (const m of platforms)
    expect((await putManifest(source.http, 'acme/pre', m.digest, m.content, MediaType.OCI_MANIFEST)).status).toBe(201);
  expect((await putManifest(source.http, 'acme/pre', 'rc1', index.content, MediaType.OCI_INDEX)).status).toBe(201);
  expect((await putManifest(source.http, 'acme/pre', signature.digest, signature.content, MediaType.OCI_MANIFEST)).status).toBe(201);
  target = await startAuthRegistry();
  await addUser(target.identities, 'alice');
  const app = target.registry.app;
  server = await startCountingUpstream(((req: http.IncomingMessage, res: http.ServerResponse) => {
    const digest = new URL(req.url ?? '/', 'http://x').searchParams.get('digest');
    if (req.method === 'PUT' && digest && failing.has(digest)) {
      req.resume();
      res.writeHead(500).end();
      return;
    }
    app(req, res);
  }));
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await target?.close();
  await source?.close();
});

const promote = (targetRef: string, credentials: object | null = { username: 'alice', password: 'alice-password' }) =>
  source.http
    .post('/api/v1/packages/acme/pre/promote')
    .send({ source: 'rc1', target: `${server.url}/${targetRef}`, referrers: true, ...(credentials ? { credentials } : {}) });

describe('promotion to another registry', () => {
  it('copies the index, its platforms and its signature, tag last, the digest the same', async () => {
    const res = await promote('alice/release:1.0');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ digest: index.digest, manifests: 4, blobsCopied: 5, blobsSkipped: 0, referrers: [signature.digest] });
    const pulled = await target.http.get('/v2/alice/release/manifests/1.0').set('Authorization', alice).set('Accept', MediaType.OCI_INDEX);
    expect(pulled.status).toBe(200);
    expect(pulled.headers['docker-content-digest']).toBe(index.digest);
    const referrers = await target.http.get(`/v2/alice/release/referrers/${index.digest}`).set('Authorization', alice);
    expect(referrers.body.manifests.map((d: { digest: string }) => d.digest)).toEqual([signature.digest]);
    // Through the target's token flow, with a push scope.
    expect(server.seen.some((r) => r.path === '/token')).toBe(true);
  });

  it('skips the blobs the target has', async () => {
    const res = await promote('alice/release:1.1');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ blobsCopied: 0, blobsSkipped: 5 });
  });

  it('a target that refuses mid-way leaves nothing tagged and says which blob failed', async () => {
    failing.add(layers[1]!.layer.digest);
    try {
      const res = await promote('alice/other:1.0');
      expectApiError(res, 502, 'UNAVAILABLE');
      expect(JSON.stringify(res.body)).toContain(layers[1]!.layer.digest);
      expect(JSON.stringify(res.body)).not.toContain('alice-password');
      const tag = await target.http.get('/v2/alice/other/manifests/1.0').set('Authorization', alice).set('Accept', MediaType.OCI_INDEX);
      expect(tag.status).toBe(404);
    } finally {
      failing.clear();
    }
  });

  it('without credentials the target refuses the push', async () => {
    const res = await promote('alice/release:anon', null);
    expectApiError(res, 502, 'UNAVAILABLE');
  });

  it('a target on an internal address not allowed is refused (the SSRF guard)', async () => {
    const res = await source.http
      .post('/api/v1/packages/acme/pre/promote')
      .send({ source: 'rc1', target: 'http://169.254.169.254/latest/x:1', referrers: false });
    expect(res.status).toBe(422);
  });
});
