import { MediaType } from '../../src/oci/media-types';
import { imageIndex, unknownDigest } from '../support/oci';
import { binary, expectOciError, pushImage, pushManifest } from '../support/http';
import { startTestRegistry, type TestRegistry } from '../support/registry';

let t: TestRegistry;
let image: Awaited<ReturnType<typeof pushImage>>;
let docker: Awaited<ReturnType<typeof pushImage>>;
let arm: Awaited<ReturnType<typeof pushImage>>;
let index: Awaited<ReturnType<typeof pushManifest>>;
let signature: Awaited<ReturnType<typeof pushImage>>;

beforeAll(async () => {
  t = await startTestRegistry();
  image = await pushImage(t.http, 'pull', 'oci', { seed: 'amd64' });
  docker = await pushImage(t.http, 'pull', 'docker', { mediaType: MediaType.DOCKER_MANIFEST });
  arm = await pushImage(t.http, 'pull', null, { seed: 'arm64' });
  index = await pushManifest(
    t.http,
    'pull',
    'multi',
    imageIndex([
      arm.descriptor({ platform: { architecture: 'arm64', os: 'linux' } }),
      image.descriptor({ platform: { architecture: 'amd64', os: 'linux' } }),
    ]),
  );
  signature = await pushImage(t.http, 'pull', 'sig', { artifactType: 'application/vnd.example.sig', subject: image.descriptor() });
});

afterAll(async () => {
  await t.close();
});

describe('GET a manifest', () => {
  it('by tag: 200 with the exact bytes, the media type as Content-Type, digest and length', async () => {
    const res = await t.http.get('/v2/pull/manifests/oci').buffer(true).parse(binary);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(MediaType.OCI_MANIFEST);
    expect(res.headers['docker-content-digest']).toBe(image.digest);
    expect(res.headers['content-length']).toBe(String(image.size));
    expect(res.headers.etag).toBe(`"${image.digest}"`);
    expect((res.body as Buffer).equals(image.content)).toBe(true);
  });

  it('by digest: the same manifest', async () => {
    const res = await t.http.get(`/v2/pull/manifests/${image.digest}`);
    expect(res.status).toBe(200);
    expect(res.headers['docker-content-digest']).toBe(image.digest);
  });

  it('serves a Docker schema 2 manifest with its Docker media type', async () => {
    const res = await t.http.get('/v2/pull/manifests/docker');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(MediaType.DOCKER_MANIFEST);
    expect(res.headers['docker-content-digest']).toBe(docker.digest);
  });

  it('serves an index with the index media type', async () => {
    const res = await t.http.get('/v2/pull/manifests/multi');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(MediaType.OCI_INDEX);
    expect(res.headers['docker-content-digest']).toBe(index.digest);
  });

  it('carries OCI-Subject for a manifest with a subject, and not otherwise', async () => {
    const withSubject = await t.http.get(`/v2/pull/manifests/${signature.digest}`);
    expect(withSubject.headers['oci-subject']).toBe(image.digest);
    expect((await t.http.head('/v2/pull/manifests/sig')).headers['oci-subject']).toBe(image.digest);
    expect((await t.http.get('/v2/pull/manifests/oci')).headers['oci-subject']).toBeUndefined();
  });

  it('answers If-None-Match on the digest with 304', async () => {
    const res = await t.http.get('/v2/pull/manifests/oci').set('If-None-Match', `"${image.digest}"`);
    expect(res.status).toBe(304);
  });

  it.each([
    ['an unknown tag', 'nope'],
    ['an unknown digest', unknownDigest('manifest')],
    ['an invalid tag', '-invalid'],
  ])('answers %s with 404 MANIFEST_UNKNOWN', async (_what, reference) => {
    expectOciError(await t.http.get(`/v2/pull/manifests/${reference}`), 404, 'MANIFEST_UNKNOWN');
  });

  it('answers a manifest of another repository with 404 MANIFEST_UNKNOWN', async () => {
    expectOciError(await t.http.get(`/v2/elsewhere/manifests/${image.digest}`), 404, 'MANIFEST_UNKNOWN');
  });

  it('answers a malformed digest with 400 DIGEST_INVALID', async () => {
    expectOciError(await t.http.get('/v2/pull/manifests/sha256:abc'), 400, 'DIGEST_INVALID');
  });
});

describe('HEAD a manifest', () => {
  it('answers 200 with the GET headers and no body', async () => {
    const res = await t.http.head('/v2/pull/manifests/oci');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(MediaType.OCI_MANIFEST);
    expect(res.headers['docker-content-digest']).toBe(image.digest);
    expect(res.headers['content-length']).toBe(String(image.size));
    expect(res.text ?? '').toBe('');
  });

  it('answers an unknown manifest with 404 and no body', async () => {
    const res = await t.http.head('/v2/pull/manifests/nope');
    expect(res.status).toBe(404);
    expect(res.text ?? '').toBe('');
  });
});

describe('Accept negotiation', () => {
  it('serves the manifest when Accept lists its type among others', async () => {
    const res = await t.http.get('/v2/pull/manifests/oci').set('Accept', `${MediaType.DOCKER_MANIFEST}, ${MediaType.OCI_MANIFEST}`);
    expect(res.status).toBe(200);
    expect(res.headers['docker-content-digest']).toBe(image.digest);
  });

  it('serves the manifest for a wildcard Accept', async () => {
    expect((await t.http.get('/v2/pull/manifests/docker').set('Accept', '*/*')).status).toBe(200);
  });

  it('answers 404 MANIFEST_UNKNOWN when Accept excludes the type of a plain manifest', async () => {
    const res = await t.http.get('/v2/pull/manifests/docker').set('Accept', MediaType.OCI_MANIFEST);
    expectOciError(res, 404, 'MANIFEST_UNKNOWN');
    expect((await t.http.head('/v2/pull/manifests/docker').set('Accept', MediaType.OCI_MANIFEST)).status).toBe(404);
  });

  it('serves a manifest fetched by digest with its true type whatever Accept says', async () => {
    const res = await t.http.get(`/v2/pull/manifests/${docker.digest}`).set('Accept', MediaType.OCI_MANIFEST);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(MediaType.DOCKER_MANIFEST);
    expect(res.headers['docker-content-digest']).toBe(docker.digest);
  });

  it('serves the linux/amd64 child of an index to a client that accepts only image manifests', async () => {
    const res = await t.http.get('/v2/pull/manifests/multi').set('Accept', MediaType.OCI_MANIFEST);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(MediaType.OCI_MANIFEST);
    expect(res.headers['docker-content-digest']).toBe(image.digest);
    const head = await t.http.head('/v2/pull/manifests/multi').set('Accept', MediaType.OCI_MANIFEST);
    expect(head.headers['docker-content-digest']).toBe(image.digest);
  });

  it('serves the index itself to a client that accepts it', async () => {
    const res = await t.http.get('/v2/pull/manifests/multi').set('Accept', `${MediaType.OCI_MANIFEST}, ${MediaType.OCI_INDEX}`);
    expect(res.headers['docker-content-digest']).toBe(index.digest);
  });

  it('does not serve a type the client refuses with q=0 (RFC 9110 §12.4.2)', async () => {
    const res = await t.http.get('/v2/pull/manifests/multi').set('Accept', `${MediaType.OCI_INDEX};q=0`);
    expectOciError(res, 404, 'MANIFEST_UNKNOWN');
  });

  it('answers 404 when neither the index nor a linux/amd64 child is acceptable', async () => {
    expectOciError(await t.http.get('/v2/pull/manifests/multi').set('Accept', MediaType.DOCKER_MANIFEST), 404, 'MANIFEST_UNKNOWN');
  });
});
