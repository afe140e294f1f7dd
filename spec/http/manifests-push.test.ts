import { MAX_MANIFEST_BYTES } from '../../src/oci/manifest';
import { MediaType } from '../../src/oci/media-types';
import { blob, descriptor, imageIndex, imageManifest, serialize, sha256, sha512, unknownDigest } from '../support/oci';
import { expectOciError, pushBlob, pushImage, putManifest } from '../support/http';
import { startTestRegistry, type TestRegistry } from '../support/registry';

let t: TestRegistry;

beforeAll(async () => {
  t = await startTestRegistry();
});

afterAll(async () => {
  await t.close();
});

const config = blob('{"architecture":"arm64","os":"linux"}');
const layer = blob('layer bytes for push tests');

beforeAll(async () => {
  await pushBlob(t.http, 'push', config);
  await pushBlob(t.http, 'push', layer);
});

function image(extra: { annotations?: Record<string, string> } = {}) {
  return serialize(
    imageManifest({
      config: descriptor(config, MediaType.OCI_CONFIG),
      layers: [descriptor(layer, 'application/vnd.oci.image.layer.v1.tar')],
      ...extra,
    }),
  );
}

describe('PUT a manifest', () => {
  it('by tag: 201 with Location by digest and Docker-Content-Digest; the tag resolves', async () => {
    const m = image();
    const res = await putManifest(t.http, 'push', 'v1', m.content, MediaType.OCI_MANIFEST);
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/v2/push/manifests/${m.digest}`);
    expect(res.headers['docker-content-digest']).toBe(m.digest);
    expect(res.headers['oci-subject']).toBeUndefined();
    const got = await t.http.head('/v2/push/manifests/v1');
    expect(got.headers['docker-content-digest']).toBe(m.digest);
  });

  it('by digest: 201 and no tag', async () => {
    const m = image({ annotations: { pushed: 'by digest' } });
    const res = await putManifest(t.http, 'push', m.digest, m.content, MediaType.OCI_MANIFEST);
    expect(res.status).toBe(201);
    expect(res.headers['docker-content-digest']).toBe(m.digest);
    expect((await t.http.head(`/v2/push/manifests/${m.digest}`)).status).toBe(200);
    const tags = await t.http.get('/v2/push/tags/list');
    expect(tags.body.tags).not.toContain(m.digest);
  });

  it('by a sha512 digest: 201, and the manifest is found under it', async () => {
    const m = image({ annotations: { pushed: 'by sha512' } });
    const digest = sha512(m.content);
    const res = await putManifest(t.http, 'push', digest, m.content, MediaType.OCI_MANIFEST);
    expect(res.status).toBe(201);
    expect(res.headers['docker-content-digest']).toBe(digest);
    const got = await t.http.head(`/v2/push/manifests/${digest}`);
    expect(got.status).toBe(200);
    expect(got.headers['docker-content-digest']).toBe(digest);
  });

  it('by a digest the content does not have: 400 DIGEST_INVALID, nothing stored', async () => {
    const m = image({ annotations: { pushed: 'under a wrong digest' } });
    const wrong = sha256('not the manifest');
    expectOciError(await putManifest(t.http, 'push', wrong, m.content, MediaType.OCI_MANIFEST), 400, 'DIGEST_INVALID');
    expect((await t.http.head(`/v2/push/manifests/${wrong}`)).status).toBe(404);
    expect((await t.http.head(`/v2/push/manifests/${m.digest}`)).status).toBe(404);
  });

  it('moves a tag to the newest manifest pushed under it', async () => {
    const first = image({ annotations: { n: '1' } });
    const second = image({ annotations: { n: '2' } });
    await putManifest(t.http, 'push', 'moving', first.content, MediaType.OCI_MANIFEST);
    await putManifest(t.http, 'push', 'moving', second.content, MediaType.OCI_MANIFEST);
    expect((await t.http.head('/v2/push/manifests/moving')).headers['docker-content-digest']).toBe(second.digest);
    expect((await t.http.head(`/v2/push/manifests/${first.digest}`)).status).toBe(200);
  });

  it('returns OCI-Subject when the manifest has a subject, even one not in the registry', async () => {
    const subject = unknownDigest('subject');
    const m = serialize(
      imageManifest({
        artifactType: 'application/vnd.example.sig',
        config: descriptor(config, MediaType.OCI_CONFIG),
        subject: { mediaType: MediaType.OCI_MANIFEST, digest: subject, size: 123 },
      }),
    );
    const res = await putManifest(t.http, 'push', m.digest, m.content, MediaType.OCI_MANIFEST);
    expect(res.status).toBe(201);
    expect(res.headers['oci-subject']).toBe(subject);
  });

  it('refuses a manifest naming a blob the repository lacks: 400 MANIFEST_BLOB_UNKNOWN', async () => {
    const missing = blob('never uploaded');
    const m = serialize(
      imageManifest({
        config: descriptor(config, MediaType.OCI_CONFIG),
        layers: [descriptor(missing, 'application/vnd.oci.image.layer.v1.tar')],
      }),
    );
    const res = await putManifest(t.http, 'push', 'missing-blob', m.content, MediaType.OCI_MANIFEST);
    expectOciError(res, 400, 'MANIFEST_BLOB_UNKNOWN');
    expect(res.body.errors[0].detail).toEqual({ digest: missing.digest });
    expectOciError(await t.http.get('/v2/push/manifests/missing-blob'), 404, 'MANIFEST_UNKNOWN');
  });

  it('refuses a manifest whose blobs only another repository has', async () => {
    const m = serialize(imageManifest({ config: descriptor(config, MediaType.OCI_CONFIG) }));
    expectOciError(await putManifest(t.http, 'push/other', 'v1', m.content, MediaType.OCI_MANIFEST), 400, 'MANIFEST_BLOB_UNKNOWN');
  });

  it('accepts a foreign layer with urls that was never uploaded', async () => {
    const foreign = blob('windows base layer, hosted elsewhere');
    const m = serialize(
      imageManifest({
        mediaType: MediaType.DOCKER_MANIFEST,
        config: descriptor(config, MediaType.DOCKER_CONFIG),
        layers: [descriptor(foreign, MediaType.DOCKER_FOREIGN_LAYER, { urls: ['https://example.com/base.tar.gz'] })],
      }),
    );
    expect((await putManifest(t.http, 'push', 'foreign', m.content, MediaType.DOCKER_MANIFEST)).status).toBe(201);
  });

  it('refuses an index naming a manifest the repository lacks: MANIFEST_UNKNOWN', async () => {
    const missing = unknownDigest('child');
    const idx = serialize(imageIndex([{ mediaType: MediaType.OCI_MANIFEST, digest: missing, size: 10 }]));
    const res = await putManifest(t.http, 'push', 'index-missing-child', idx.content, MediaType.OCI_INDEX);
    expectOciError(res, 400, 'MANIFEST_UNKNOWN');
    expect(res.body.errors[0].detail).toEqual({ digest: missing });
  });

  it('accepts an index once its children are pushed', async () => {
    const child = await pushImage(t.http, 'push', null, { seed: 'child of index' });
    const idx = serialize(imageIndex([child.descriptor({ platform: { architecture: 'amd64', os: 'linux' } })]));
    expect((await putManifest(t.http, 'push', 'index', idx.content, MediaType.OCI_INDEX)).status).toBe(201);
  });

  it('refuses a Content-Type that contradicts the body: 400 MANIFEST_INVALID', async () => {
    const m = image();
    expectOciError(await putManifest(t.http, 'push', 'mismatch', m.content, MediaType.OCI_INDEX), 400, 'MANIFEST_INVALID');
  });

  it('refuses malformed JSON: 400 MANIFEST_INVALID', async () => {
    expectOciError(
      await putManifest(t.http, 'push', 'broken', Buffer.from('{"schemaVersion":'), MediaType.OCI_MANIFEST),
      400,
      'MANIFEST_INVALID',
    );
  });

  it('refuses Docker schema 1: 400 MANIFEST_INVALID', async () => {
    const schema1 = Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'push', tag: 'old', fsLayers: [], history: [] }));
    expectOciError(await putManifest(t.http, 'push', 'old', schema1, MediaType.DOCKER_SCHEMA1_SIGNED), 400, 'MANIFEST_INVALID');
  });

  it('refuses an invalid tag: 400', async () => {
    const m = image();
    const res = await putManifest(t.http, 'push', '-bad', m.content, MediaType.OCI_MANIFEST);
    expect(res.status).toBe(400);
  });

  it(`refuses a manifest over ${MAX_MANIFEST_BYTES} bytes with 413`, async () => {
    const padding = 'x'.repeat(MAX_MANIFEST_BYTES);
    const m = image({ annotations: { padding } });
    expect(m.content.length).toBeGreaterThan(MAX_MANIFEST_BYTES);
    expectOciError(await putManifest(t.http, 'push', 'huge', m.content, MediaType.OCI_MANIFEST), 413, 'MANIFEST_INVALID');
    expect((await t.http.head('/v2/push/manifests/huge')).status).toBe(404);
  });

  it('accepts a manifest of exactly the limit', async () => {
    const base = image({ annotations: { padding: '' } }).content.length;
    const m = image({ annotations: { padding: 'y'.repeat(MAX_MANIFEST_BYTES - base) } });
    expect(m.content.length).toBe(MAX_MANIFEST_BYTES);
    expect((await putManifest(t.http, 'push', 'at-limit', m.content, MediaType.OCI_MANIFEST)).status).toBe(201);
  });
});

describe('PUT a manifest with ?tag= parameters', () => {
  it('by digest: every tag applied, one OCI-Tag header each; by a sha512 digest, the tags name it', async () => {
    for (const algorithm of ['sha256', 'sha512'] as const) {
      const m = image({ annotations: { pushed: `with tag parameters, ${algorithm}` } });
      const digest = algorithm === 'sha256' ? m.digest : sha512(m.content);
      const res = await putManifest(t.http, 'push', `${digest}?tag=p1-${algorithm}&tag=p2-${algorithm}`, m.content, MediaType.OCI_MANIFEST);
      expect(res.status).toBe(201);
      expect(res.headers['docker-content-digest']).toBe(digest);
      expect(res.headers['oci-tag']).toBe(`p1-${algorithm}, p2-${algorithm}`);
      for (const tag of [`p1-${algorithm}`, `p2-${algorithm}`]) {
        expect((await t.http.head(`/v2/push/manifests/${tag}`)).headers['docker-content-digest']).toBe(digest);
      }
    }
  });

  it('refuses an invalid tag parameter (400 MANIFEST_INVALID) and applies none of them', async () => {
    const m = image({ annotations: { pushed: 'with a bad tag parameter' } });
    const res = await putManifest(t.http, 'push', `${m.digest}?tag=good-one&tag=-bad`, m.content, MediaType.OCI_MANIFEST);
    expectOciError(res, 400, 'MANIFEST_INVALID');
    expect((await t.http.head('/v2/push/manifests/good-one')).status).toBe(404);
    expect((await t.http.head(`/v2/push/manifests/${m.digest}`)).status).toBe(404);
  });
});
