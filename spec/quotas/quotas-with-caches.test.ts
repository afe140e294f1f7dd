import { MediaType } from '../../src/oci/media-types';
import { manifestFor, packageContent, postBlob, putManifest } from '../auth/support/registry-ops';
import { blob } from '../support/oci';
import { binary, expectOciError } from '../support/http';
import { startTestRegistry, type TestRegistry } from '../support/registry';
import { startCountingUpstream, type CountingUpstream } from '../proxy/upstream-server';

/**
 * Quotas beside pull-through caches (src/proxy): the registry's own repositories are held to the limits as without
 * a cache, and filling a cache's prefix, which is no owner's storage, never is.
 */
let upstream: TestRegistry;
let server: CountingUpstream;
let cache: TestRegistry;

beforeAll(async () => {
  upstream = await startTestRegistry();
  // A layer larger than the whole quota below.
  const content = { ...packageContent('library/app'), layer: blob(Buffer.alloc(1000, 7)) };
  for (const b of [content.config, content.layer]) expect((await postBlob(upstream.http, null, 'library/app', b)).status).toBe(201);
  expect((await putManifest(upstream.http, null, 'library/app', 'v1', manifestFor(content, 'upstream').content)).status).toBe(201);
  server = await startCountingUpstream(upstream.registry.app);
  // Room for one small package's config and layer (about 80 bytes), one version each.
  cache = await startTestRegistry({
    proxies: [{ prefix: 'up', url: server.url, tagTtlSeconds: 3600, access: 'anonymous' }],
    quotas: { bytes: 100, versionsPerPackage: 1 },
  });
}, 60_000);

afterAll(async () => {
  await cache?.close();
  await server?.stop();
  await upstream?.close();
});

it('holds own repositories to the limits, and fills a cache past them', async () => {
  const content = packageContent('local/app');
  for (const b of [content.config, content.layer]) expect((await postBlob(cache.http, null, 'local/app', b)).status).toBe(201);
  expect((await putManifest(cache.http, null, 'local/app', 'v1', manifestFor(content, 'one').content)).status).toBe(201);
  expectOciError(await putManifest(cache.http, null, 'local/app', 'v2', manifestFor(content, 'two').content), 403, 'DENIED');
  expectOciError(await postBlob(cache.http, null, 'local/app', packageContent('more bytes').config), 403, 'DENIED');

  const pulled = await cache.http.get('/v2/up/library/app/manifests/v1').set('Accept', MediaType.OCI_MANIFEST);
  expect(pulled.status).toBe(200);
  const manifest = JSON.parse(pulled.text) as { config: { digest: string }; layers: Array<{ digest: string; size: number }> };
  expect(manifest.layers.map((l) => l.size)).toEqual([1000]);
  for (const digest of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) {
    const res = await cache.http.get(`/v2/up/library/app/blobs/${digest}`).buffer(true).parse(binary);
    expect({ digest, status: res.status }).toEqual({ digest, status: 200 });
  }
});
