/**
 * Properties of the manifest parser (issue 20): manifests and indexes whose
 * fields hold values of any type, any JSON, bytes that are not JSON, under any
 * Content-Type, through PUT /v2/<name>/manifests/<tag> and parseManifest
 * directly. A manifest is stored (201) or refused with the error JSON (400
 * MANIFEST_INVALID, MANIFEST_BLOB_UNKNOWN, …), never a 5xx.
 */
import fc from 'fast-check';
import { DomainError } from '../../src/domain-error';
import { errorAnswer } from '../../src/http/error-mapping';
import { parseManifest } from '../../src/oci/manifest';
import { MediaType } from '../../src/oci/media-types';
import { ADMIN_PASSWORD, basic, startAuthRegistry, type AuthTestRegistry } from '../auth/support/auth-registry';
import { getManifest, packageContent, putManifest, seedPackage } from '../auth/support/registry-ops';
import { checkProperty, expectAnswer, printPropertyCounts } from './support/properties';

const admin = basic('admin', ADMIN_PASSWORD);

describe('manifest bodies never answer 5xx', () => {
  let t: AuthTestRegistry;
  // The blobs seedPackage pushes, known before it runs so the generators can name them.
  const content = packageContent('admin/app');

  beforeAll(async () => {
    t = await startAuthRegistry();
    await seedPackage(t.http, admin, 'admin/app', 'v1');
  });
  afterAll(async () => {
    printPropertyCounts('spec/property/manifests.test.ts');
    await t?.close();
  });

  const any = fc.jsonValue({ maxDepth: 2 });
  const maybe = <T>(plausible: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: plausible }, { weight: 1, arbitrary: any });
  const descriptor = () =>
    fc.record(
      {
        mediaType: maybe(fc.constantFrom(MediaType.OCI_CONFIG, 'application/vnd.oci.image.layer.v1.tar', MediaType.OCI_MANIFEST, '')),
        digest: maybe(fc.constantFrom(content.config.digest, content.layer.digest, 'sha256:abc', `sha256:${'0'.repeat(64)}`)),
        size: maybe(fc.oneof(fc.constantFrom(content.config.content.length, content.layer.content.length), fc.integer(), fc.double())),
        urls: maybe(fc.array(fc.string({ maxLength: 20 }), { maxLength: 2 })),
        annotations: maybe(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 2 })),
        platform: maybe(
          fc.record(
            { architecture: maybe(fc.constantFrom('amd64', 'arm64')), os: maybe(fc.constantFrom('linux', 'windows')) },
            { requiredKeys: [] },
          ),
        ),
      },
      { requiredKeys: [] },
    );
  const manifest = fc.oneof(
    fc.record(
      {
        schemaVersion: maybe(fc.constantFrom(2, 1, '2')),
        mediaType: maybe(fc.constantFrom(MediaType.OCI_MANIFEST, MediaType.DOCKER_MANIFEST, MediaType.OCI_INDEX, 'x/y')),
        artifactType: maybe(fc.string({ maxLength: 20 })),
        config: maybe(descriptor()),
        layers: maybe(fc.array(descriptor(), { maxLength: 3 })),
        subject: maybe(descriptor()),
        annotations: maybe(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 2 })),
      },
      { requiredKeys: [] },
    ),
    fc.record(
      {
        schemaVersion: maybe(fc.constant(2)),
        mediaType: maybe(fc.constantFrom(MediaType.OCI_INDEX, MediaType.DOCKER_MANIFEST_LIST)),
        manifests: maybe(fc.array(descriptor(), { maxLength: 3 })),
      },
      { requiredKeys: [] },
    ),
    any,
  );
  const body = fc.oneof(
    { weight: 5, arbitrary: manifest.map((m) => Buffer.from(JSON.stringify(m))) },
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
    fc.constantFrom('', '{', '{"schemaVersion":2', '\uFEFF{}', 'null').map((s) => Buffer.from(s)),
  );
  const contentType = fc.constantFrom(
    MediaType.OCI_MANIFEST,
    MediaType.OCI_INDEX,
    MediaType.DOCKER_MANIFEST,
    MediaType.DOCKER_MANIFEST_LIST,
    MediaType.OCI_ARTIFACT_MANIFEST,
    `${MediaType.OCI_MANIFEST}; charset=utf-8`,
    'application/json',
    'text/plain',
    '',
  );

  it('PUT /v2/<name>/manifests/<tag> with any body and Content-Type', async () => {
    let stored = 0;
    await checkProperty(
      'manifest body (PUT manifest)',
      fc.tuple(body, contentType),
      async ([bytes, type]) => {
        const res = await putManifest(t.http, admin, 'admin/app', 'prop', bytes).set('Content-Type', type);
        expectAnswer(res, [201], [400, 404, 415], `PUT manifest (${type}) ${bytes.toString('utf8').slice(0, 300)}`);
        if (res.status === 201) {
          stored++;
          // Whatever was stored reads back, under any Accept.
          const back = await getManifest(t.http, admin, 'admin/app', 'prop').set('Accept', MediaType.DOCKER_MANIFEST);
          expectAnswer(back, [200], [404], `GET manifest after storing (${type}) ${bytes.toString('utf8').slice(0, 300)}`);
        }
      },
      300,
    );
    // Not vacuous: some generated manifests were valid and took the storing path.
    expect(stored).toBeGreaterThan(0);
  });

  it('parseManifest returns or refuses with a domain error answered below 500', async () => {
    await checkProperty(
      'manifest body (parseManifest directly)',
      fc.tuple(body, contentType),
      ([bytes, type]) => {
        try {
          parseManifest(bytes, type);
        } catch (err) {
          if (!(err instanceof DomainError) || errorAnswer(err, 'registry').status >= 500) throw err;
        }
      },
      500,
    );
  });

  it('the registry still serves manifests after the properties ran', async () => {
    expect((await getManifest(t.http, admin, 'admin/app', 'v1')).status).toBe(200);
  });
});
