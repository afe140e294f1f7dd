import { MediaType } from '../../src/oci/media-types';
import { blob, descriptor, imageIndex, imageManifest, serialize } from '../support/oci';
import { expectOciError, pushBlob, putManifest } from '../support/http';
import { startTestRegistry, type TestRegistry } from '../support/registry';

/**
 * Sparse manifests (distribution-spec v1.1, issue #21): where BERTH_SPARSE_MANIFESTS allows them, an index may
 * name platforms and an image layers that were never pushed (a mirror of some platforms); elsewhere they are refused.
 */
let t: TestRegistry;
beforeAll(async () => {
  t = await startTestRegistry({ manifests: { sparse: 'mirror/*, other/base' } });
});
afterAll(() => t.close());

const config = blob('{"architecture":"amd64","os":"linux"}');
const pushed = blob('a layer that is pushed');
const neverPushed = blob('a layer nobody pushed');

function image(layers: Array<ReturnType<typeof blob>>) {
  return serialize(
    imageManifest({
      config: descriptor(config, MediaType.OCI_CONFIG),
      layers: layers.map((l) => descriptor(l, 'application/vnd.oci.image.layer.v1.tar')),
    }),
  );
}

describe('sparse manifests', () => {
  it.each(['mirror/app', 'other/base'])(
    '%s: an image missing a layer and an index missing a platform are stored and served',
    async (name) => {
      await pushBlob(t.http, name, config);
      await pushBlob(t.http, name, pushed);
      const partial = image([pushed, neverPushed]);
      expect((await putManifest(t.http, name, 'partial', partial.content, MediaType.OCI_MANIFEST)).status).toBe(201);
      const missingPlatform = image([blob(`arm64 only ${name}`)]);
      const index = serialize(
        imageIndex([
          partial.descriptor({ platform: { os: 'linux', architecture: 'amd64' } }),
          missingPlatform.descriptor({ platform: { os: 'linux', architecture: 'arm64' } }),
        ]),
      );
      expect((await putManifest(t.http, name, 'sparse-index', index.content, MediaType.OCI_INDEX)).status).toBe(201);
      const got = await t.http.get(`/v2/${name}/manifests/sparse-index`).set('Accept', MediaType.OCI_INDEX);
      expect(got.status).toBe(200);
      expect(got.headers['docker-content-digest']).toBe(index.digest);
      expect((await t.http.get(`/v2/${name}/tags/list`)).body.tags).toEqual(['partial', 'sparse-index']);
      // What was never pushed is still unknown: sparse stores the manifest, it does not invent content.
      expect((await t.http.head(`/v2/${name}/manifests/${missingPlatform.digest}`)).status).toBe(404);
      expect((await t.http.head(`/v2/${name}/blobs/${neverPushed.digest}`)).status).toBe(404);
    },
  );

  it('elsewhere a manifest naming what was never pushed is refused, as before', async () => {
    await pushBlob(t.http, 'plain/app', config);
    await pushBlob(t.http, 'plain/app', pushed);
    const partial = image([pushed, neverPushed]);
    expectOciError(
      await putManifest(t.http, 'plain/app', 'partial', partial.content, MediaType.OCI_MANIFEST),
      400,
      'MANIFEST_BLOB_UNKNOWN',
    );
    expectOciError(
      await putManifest(t.http, 'mirrors/app', 'partial', partial.content, MediaType.OCI_MANIFEST),
      400,
      'MANIFEST_BLOB_UNKNOWN',
    );
  });
});
