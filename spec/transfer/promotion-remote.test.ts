import { createHash } from 'node:crypto';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MediaType } from '../../src/oci/media-types';
import { addUser, basic, startAuthRegistry, type AuthTestRegistry } from '../auth/support/auth-registry';
import { manifestFor, packageContent, postBlob } from '../auth/support/registry-ops';
import { descriptor, EMPTY_CONFIG, imageIndex, imageManifest, serialize } from '../support/oci';

/**
 * Promotion to another registry (issue #21): a second Berth with token auth on a loopback port is the target.
 * The index, its platforms, its referrers-API signature and a cosign tag-mode signature arrive under the same
 * digests through the target's token flow; a second promotion sends no blob again; a target that refuses a blob
 * half-way is left with nothing tagged and the answer names the blob; internal targets need the allow list.
 */
let source: AuthTestRegistry;
let target: AuthTestRegistry;
let targetServer: Server;
let refusing: Server;
let targetUrl: string;
let refusingUrl: string;
const alice = basic('alice', 'alice-password');
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
// cosign's default mode: a manifest with no subject, tagged sha256-<hex of the signed digest>.sig.
const tagModeSignature = serialize(
  imageManifest({ config: descriptor(EMPTY_CONFIG, MediaType.OCI_EMPTY), annotations: { 'dev.cosignproject.cosign/signature': 'x' } }),
);
const sigTag = `${index.digest.replace(':', '-')}.sig`;

async function put(name: string, reference: string, m: { content: Buffer; mediaType: string }) {
  const res = await source.http
    .put(`/v2/${name}/manifests/${reference}`)
    .set('Authorization', alice)
    .set('Content-Type', m.mediaType)
    .serialize((body: Buffer) => body as unknown as string)
    .send(m.content);
  expect(res.status).toBe(201);
}

const listen = async (handler: http.RequestListener): Promise<Server> => {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
};
const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

beforeAll(async () => {
  source = await startAuthRegistry({}, { promotion: { allowedHosts: '127.0.0.1' } });
  target = await startAuthRegistry();
  for (const r of [source, target]) await addUser(r.identities, 'alice');
  for (const b of [content.config, content.layer, EMPTY_CONFIG])
    expect((await postBlob(source.http, alice, 'alice/pre', b)).status).toBe(201);
  await put('alice/pre', amd.digest, amd);
  await put('alice/pre', arm.digest, arm);
  await put('alice/pre', 'rc1', index);
  await put('alice/pre', signature.digest, signature);
  await put('alice/pre', sigTag, tagModeSignature);
  targetServer = await listen(target.registry.app);
  targetUrl = urlOf(targetServer);
  // In front of the target: refuses the upload of the signatures' (empty) config, which comes after both platform
  // images were sent; passes everything else on.
  const refused = EMPTY_CONFIG.digest;
  refusing = await listen((req, res) => {
    if (req.method === 'PUT' && req.url?.includes(encodeURIComponent(refused))) {
      req.resume();
      res.writeHead(403, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'DENIED', message: 'quota exceeded' }] }));
      return;
    }
    const upstream = http.request(`${targetUrl}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  refusingUrl = urlOf(refusing);
}, 60_000);
afterAll(async () => {
  await new Promise((resolve) => targetServer.close(resolve));
  await new Promise((resolve) => refusing.close(resolve));
  await source.close();
  await target.close();
});

const promote = (body: object) => source.http.post('/api/v1/packages/alice/pre/promote').set('Authorization', alice).send(body);
const credentials = { username: 'alice', password: 'alice-password' };
const targetManifest = (reference: string) =>
  target.http
    .get(`/v2/alice/release/manifests/${reference}`)
    .set('Authorization', alice)
    .set('Accept', [MediaType.OCI_INDEX, MediaType.OCI_MANIFEST].join(', '));

describe('promotion to another registry', () => {
  it('sends the index, its platforms and both kinds of signature through the target token flow, the digests the same', async () => {
    const res = await promote({ source: 'rc1', target: `${targetUrl}/alice/release:1.0`, credentials, referrers: true });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      digest: index.digest,
      target: `${targetUrl}/alice/release:1.0`,
      manifests: 5,
      blobsMounted: 0,
      // the platforms' config and layer (shared), the signatures' empty config
      blobsSent: 3,
      blobsPresent: 0,
    });
    expect([...(res.body.referrers as string[])].sort()).toEqual([signature.digest, tagModeSignature.digest].sort());
    const tagged = await targetManifest('1.0');
    expect(tagged.status).toBe(200);
    expect(tagged.headers['docker-content-digest']).toBe(index.digest);
    const bytes = await targetManifest('1.0').responseType('blob');
    expect(
      `sha256:${createHash('sha256')
        .update(bytes.body as Buffer)
        .digest('hex')}`,
    ).toBe(index.digest);
    expect((await targetManifest(amd.digest)).status).toBe(200);
    expect((await targetManifest(sigTag)).headers['docker-content-digest']).toBe(tagModeSignature.digest);
    const referrers = await target.http.get(`/v2/alice/release/referrers/${index.digest}`).set('Authorization', alice);
    expect(referrers.body.manifests.map((m: { digest: string }) => m.digest)).toEqual([signature.digest]);
    const blob = await target.http.get(`/v2/alice/release/blobs/${content.layer.digest}`).set('Authorization', alice);
    expect(blob.status).toBe(200);
    // Audit-logged on the source, without the credentials.
    const audit = await source.http.get('/api/v1/user/audit-log?action=package.promote').set('Authorization', alice);
    expect(JSON.stringify(audit.body)).toContain(`${targetUrl}/alice/release:1.0`);
    expect(JSON.stringify(audit.body)).not.toContain('alice-password');
  });

  it('sends no blob the target already has', async () => {
    const res = await promote({ source: 'rc1', target: `${targetUrl}/alice/release:1.0.1`, credentials });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ manifests: 3, blobsSent: 0, blobsPresent: 2 });
    expect((await targetManifest('1.0.1')).status).toBe(200);
  });

  it('leaves nothing tagged at a target that refuses a blob half-way, and names the blob', async () => {
    const res = await promote({ source: 'rc1', target: `${refusingUrl}/alice/half:1.0`, credentials, referrers: true });
    expect(res.status).toBe(502);
    expect(res.body.errors[0]).toMatchObject({ code: 'UPSTREAM_FAILED' });
    expect(res.body.errors[0].detail).toContain(`blob ${EMPTY_CONFIG.digest}`);
    expect(res.body.errors[0].detail).toContain('403 DENIED: quota exceeded');
    const half = await target.http.get('/v2/alice/half/manifests/1.0').set('Authorization', alice);
    expect(half.status).toBe(404);
    // What went before the refusal (both platform images) is there by digest; no tag names anything.
    expect((await target.http.get(`/v2/alice/half/manifests/${arm.digest}`).set('Authorization', alice)).status).toBe(200);
    expect((await target.http.get('/v2/alice/half/tags/list').set('Authorization', alice)).body.tags ?? []).toEqual([]);
  });

  it('refuses wrong credentials at the target, an internal target not allowed, and credentials for a target here', async () => {
    const wrong = await promote({
      source: 'rc1',
      target: `${targetUrl}/alice/release:2.0`,
      credentials: { username: 'alice', password: 'nope' },
    });
    expect(wrong.status).toBe(502);
    expect(wrong.body.errors[0].detail).toMatch(/token/);
    expect((await targetManifest('2.0')).status).toBe(404);

    // The target registry (its allow list empty) may not promote to loopback.
    const internal = await target.http
      .post('/api/v1/packages/alice/release/promote')
      .set('Authorization', alice)
      .send({ source: '1.0', target: `${targetUrl}/alice/x:1`, credentials });
    expect(internal.status).toBe(422);
    expect(internal.body.errors[0].detail).toContain('BERTH_PROMOTION_ALLOWED_HOSTS');

    const local = await promote({ source: 'rc1', target: 'alice/release:3.0', credentials });
    expect(local.status).toBe(400);
    const malformed = await promote({ source: 'rc1', target: `${targetUrl}/alice/release:1.0`, credentials: { username: 'alice' } });
    expect(malformed.status).toBe(400);
  });
});
