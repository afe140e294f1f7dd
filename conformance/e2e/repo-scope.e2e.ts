// 4. Repository-scoped blob access and cross-repository mounts.
import { openServer, ServerHandle, stopAll } from './support/berth-process';
import { Client, MT, check, expectOciError, expectStatus, header } from './support/http';
import { repoName, sha256, uniqueBytes } from './support/data';
import { manifestBytes, pushImageBlobs, PushedImage } from './support/images';

let server: ServerHandle;
let client: Client;
const one = repoName('a/one');
const two = repoName('a/two');
const three = repoName('a/three');
let img: PushedImage; // blobs in a/one only
let own: PushedImage; // blobs in a/two

beforeAll(async () => {
  server = await openServer();
  client = new Client(server.url);
  img = await pushImageBlobs(client, one);
  expectStatus(await client.putManifest(one, 'latest', img.bytes, img.mediaType), 201);
  // a/two exists (it has blobs and a manifest of its own), so "unknown" below cannot mean "no such repository".
  own = await pushImageBlobs(client, two);
  expectStatus(await client.putManifest(two, 'own', own.bytes, own.mediaType), 201);
  // a/three exists too, without the blobs of a/one.
  const t = await pushImageBlobs(client, three);
  expectStatus(await client.putManifest(three, 'own', t.bytes, t.mediaType), 201);
});

afterAll(async () => {
  client?.close();
  await server?.close();
  await stopAll();
});

describe('repository-scoped blobs', () => {
  test('a blob pushed to a/one is 404 BLOB_UNKNOWN in a/two (GET) and 404 (HEAD)', async () => {
    for (const d of [img.layer.digest, img.config.digest]) {
      expectStatus(await client.head(`/v2/${one}/blobs/${d}`), 200);
      expectOciError(await client.get(`/v2/${two}/blobs/${d}`), 404, ['BLOB_UNKNOWN']);
      const h = await client.head(`/v2/${two}/blobs/${d}`);
      expectStatus(h, 404);
      check(h, h.body.length === 0, 'HEAD 404 has a body');
    }
  });

  test('a blob of a/one is not served in a/two with a Range either', async () => {
    expectOciError(await client.get(`/v2/${two}/blobs/${img.layer.digest}`, { Range: 'bytes=0-9' }), 404, ['BLOB_UNKNOWN']);
  });

  test('the manifest of a/one cannot be fetched through a/two', async () => {
    expectOciError(await client.get(`/v2/${two}/manifests/${img.digest}`, { Accept: MT.dockerManifest }), 404, ['MANIFEST_UNKNOWN']);
  });

  test('a manifest in a/two referencing only-a/one blobs is refused with MANIFEST_BLOB_UNKNOWN', async () => {
    const r = await client.putManifest(two, 'borrowed', img.bytes, img.mediaType);
    expectOciError(r, 400, ['MANIFEST_BLOB_UNKNOWN']);
    // Mixed: own config, foreign layer.
    const mixed = manifestBytes(MT.dockerManifest, own.config, [img.layer]);
    expectOciError(await client.putManifest(two, 'mixed', mixed, MT.dockerManifest), 400, ['MANIFEST_BLOB_UNKNOWN']);
  });

  test('a cross-repo mount from a/one → 201; the blob is then served in a/two and the manifest is accepted', async () => {
    for (const d of [img.layer, img.config]) {
      const r = await client.request('POST', `/v2/${two}/blobs/uploads/`, { query: { mount: d.digest, from: one } });
      expectStatus(r, 201);
      const loc = header(r, 'location');
      check(r, !!loc, 'mount: 201 without Location');
      check(r, header(r, 'docker-content-digest') === d.digest, `mount: Docker-Content-Digest is not ${d.digest}`);
      const g = await client.get(loc!);
      expectStatus(g, 200);
      check(g, sha256(g.body) === d.digest && g.body.length === d.size, 'blob at the mount Location does not hash to the digest');
      const h = await client.head(`/v2/${two}/blobs/${d.digest}`);
      expectStatus(h, 200);
      check(h, header(h, 'content-length') === String(d.size), 'HEAD after mount: wrong Content-Length');
    }
    const r = await client.putManifest(two, 'borrowed', img.bytes, img.mediaType);
    expectStatus(r, 201);
    const g = await client.get(`/v2/${two}/manifests/borrowed`, { Accept: MT.dockerManifest });
    expectStatus(g, 200);
    check(g, g.body.equals(img.bytes), 'manifest differs');
  });

  test('mounting into a/two does not expose the blob in a third repository', async () => {
    expectOciError(await client.get(`/v2/${three}/blobs/${img.layer.digest}`), 404, ['BLOB_UNKNOWN']);
  });

  test('a mount from a repository lacking the blob → 202 with a working upload session', async () => {
    const data = uniqueBytes(333);
    const digest = sha256(data);
    // a/three exists but lacks a/one's layer; the second digest exists nowhere.
    const attempts: Array<[string, string]> = [
      [img.layer.digest, three],
      [digest, one],
    ];
    for (const [mount, from] of attempts) {
      const r = await client.request('POST', `/v2/${two}/blobs/uploads/`, { query: { mount, from } });
      expectStatus(r, 202);
      const loc = header(r, 'location');
      check(r, !!loc, 'mount fallback: 202 without Location');
      if (mount === img.layer.digest) continue;
      // The fallback session is a real upload session.
      const put = await client.request('PUT', loc!, {
        query: { digest },
        headers: { 'Content-Type': 'application/octet-stream' },
        body: data,
      });
      expectStatus(put, 201);
      const g = await client.get(`/v2/${two}/blobs/${digest}`);
      expectStatus(g, 200);
      check(g, g.body.equals(data), 'blob uploaded through the mount fallback session differs');
    }
    // The failed mount from a/three did not make the layer appear there.
    expectOciError(await client.get(`/v2/${three}/blobs/${img.layer.digest}`), 404, ['BLOB_UNKNOWN']);
  });
});
