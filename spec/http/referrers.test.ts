import { MediaType } from '../../src/oci/media-types';
import { blob, descriptor, EMPTY_CONFIG, imageIndex, imageManifest, unknownDigest } from '../support/oci';
import { expectOciError, pushBlob, pushImage, pushManifest } from '../support/http';
import { startTestRegistry, type TestRegistry } from '../support/registry';

const SIG = 'application/vnd.example.signature';
const SBOM = 'application/vnd.example.sbom';
const CONFIG_TYPED = 'application/vnd.example.config-typed+json';

let t: TestRegistry;
let subject: Awaited<ReturnType<typeof pushImage>>;
let signature: Awaited<ReturnType<typeof pushManifest>>;
let sbom: Awaited<ReturnType<typeof pushManifest>>;
let configTyped: Awaited<ReturnType<typeof pushImage>>;
let indexReferrer: Awaited<ReturnType<typeof pushManifest>>;

beforeAll(async () => {
  t = await startTestRegistry();
  subject = await pushImage(t.http, 'ref', 'v1');
  const payload = blob('signature payload');
  await pushBlob(t.http, 'ref', EMPTY_CONFIG);
  await pushBlob(t.http, 'ref', payload);
  const artifact = (artifactType: string, annotations?: Record<string, string>) =>
    imageManifest({
      artifactType,
      config: descriptor(EMPTY_CONFIG, MediaType.OCI_EMPTY),
      layers: [descriptor(payload, 'application/octet-stream')],
      subject: subject.descriptor(),
      annotations,
    });
  signature = await pushManifest(t.http, 'ref', null, artifact(SIG, { 'org.example.signer': 'alice' }));
  sbom = await pushManifest(t.http, 'ref', null, artifact(SBOM));
  // No artifactType: the config media type types it.
  configTyped = await pushImage(t.http, 'ref', null, { configMediaType: CONFIG_TYPED, subject: subject.descriptor() });
  indexReferrer = await pushManifest(t.http, 'ref', null, imageIndex([], { artifactType: SBOM, subject: subject.descriptor() }));
});

afterAll(async () => {
  await t.close();
});

function referrers(query = '', name = 'ref', digest = subject.digest) {
  return t.http.get(`/v2/${name}/referrers/${digest}${query}`);
}

describe('GET /v2/<name>/referrers/<digest>', () => {
  it('answers an image index of every manifest whose subject is the digest', async () => {
    const res = await referrers();
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(MediaType.OCI_INDEX);
    expect(res.headers['oci-filters-applied']).toBeUndefined();
    expect(res.body.schemaVersion).toBe(2);
    expect(res.body.mediaType).toBe(MediaType.OCI_INDEX);
    const byDigest = Object.fromEntries((res.body.manifests as Array<{ digest: string }>).map((d) => [d.digest, d]));
    expect(byDigest).toEqual({
      [signature.digest]: {
        mediaType: MediaType.OCI_MANIFEST,
        digest: signature.digest,
        size: signature.size,
        artifactType: SIG,
        annotations: { 'org.example.signer': 'alice' },
      },
      [sbom.digest]: { mediaType: MediaType.OCI_MANIFEST, digest: sbom.digest, size: sbom.size, artifactType: SBOM },
      [configTyped.digest]: {
        mediaType: MediaType.OCI_MANIFEST,
        digest: configTyped.digest,
        size: configTyped.size,
        artifactType: CONFIG_TYPED,
      },
      [indexReferrer.digest]: {
        mediaType: MediaType.OCI_INDEX,
        digest: indexReferrer.digest,
        size: indexReferrer.size,
        artifactType: SBOM,
      },
    });
  });

  it('filters by artifactType and says so in OCI-Filters-Applied', async () => {
    const res = await referrers(`?artifactType=${encodeURIComponent(SBOM)}`);
    expect(res.status).toBe(200);
    expect(res.headers['oci-filters-applied']).toBe('artifactType');
    expect((res.body.manifests as Array<{ digest: string }>).map((d) => d.digest).sort()).toEqual(
      [sbom.digest, indexReferrer.digest].sort(),
    );
  });

  it('filters on the config media type of a manifest without artifactType', async () => {
    const res = await referrers(`?artifactType=${encodeURIComponent(CONFIG_TYPED)}`);
    expect(res.body.manifests).toEqual([expect.objectContaining({ digest: configTyped.digest, artifactType: CONFIG_TYPED })]);
  });

  it('answers an empty index when the filter matches nothing', async () => {
    const res = await referrers('?artifactType=application%2Fnone');
    expect(res.status).toBe(200);
    expect(res.headers['oci-filters-applied']).toBe('artifactType');
    expect(res.body.manifests).toEqual([]);
  });

  it('answers an empty index for a digest nothing refers to, or that is unknown', async () => {
    for (const digest of [signature.digest, unknownDigest()]) {
      const res = await referrers('', 'ref', digest);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [] });
    }
  });

  it('answers an empty index in a repository the referrers are not in', async () => {
    const res = await referrers('', 'ref-elsewhere');
    expect(res.status).toBe(200);
    expect(res.body.manifests).toEqual([]);
  });

  it('drops a referrer once it is deleted', async () => {
    const extra = await pushImage(t.http, 'ref', null, {
      seed: 'short-lived',
      artifactType: 'application/x.tmp',
      subject: subject.descriptor(),
    });
    expect((await referrers('?artifactType=application%2Fx.tmp')).body.manifests).toHaveLength(1);
    expect((await t.http.delete(`/v2/ref/manifests/${extra.digest}`)).status).toBe(202);
    expect((await referrers('?artifactType=application%2Fx.tmp')).body.manifests).toEqual([]);
  });

  it('answers a malformed digest with 400 DIGEST_INVALID', async () => {
    expectOciError(await referrers('', 'ref', 'sha256:123'), 400, 'DIGEST_INVALID');
  });
});
