// 1. Docker schema2 manifests and manifest lists: pushed and served byte-for-byte, with the pushed
//    Content-Type, Docker-Content-Digest and Content-Length, on GET and HEAD, by tag and by digest.
import { openServer, ServerHandle, stopAll } from './support/berth-process';
import { Client, MT, check, expectStatus, header } from './support/http';
import { repoName, sha256 } from './support/data';
import { listBytes, pushImageBlobs, PushedImage } from './support/images';

let server: ServerHandle;
let client: Client;
const repo = repoName('schema2');

beforeAll(async () => {
  server = await openServer();
  client = new Client(server.url);
});

afterAll(async () => {
  client?.close();
  await server?.close();
  await stopAll();
});

async function expectManifestPut(ref: string, bytes: Buffer, contentType: string): Promise<void> {
  const r = await client.putManifest(repo, ref, bytes, contentType);
  expectStatus(r, 201);
  check(r, !!header(r, 'location'), 'PUT manifest: 201 without Location');
  check(r, header(r, 'docker-content-digest') === sha256(bytes), `PUT manifest: Docker-Content-Digest is not ${sha256(bytes)}`);
}

/** GET and HEAD by `ref` return exactly `bytes` with the stored type, digest and length. */
async function expectServed(ref: string, bytes: Buffer, contentType: string, accept: string): Promise<void> {
  const digest = sha256(bytes);
  const get = await client.get(`/v2/${repo}/manifests/${ref}`, { Accept: accept });
  expectStatus(get, 200);
  check(get, get.body.equals(bytes), 'GET manifest: body differs from the bytes pushed');
  check(get, header(get, 'content-type') === contentType, `GET manifest: Content-Type is not ${contentType}`);
  check(get, header(get, 'docker-content-digest') === digest, `GET manifest: Docker-Content-Digest is not ${digest}`);
  check(get, header(get, 'content-length') === String(bytes.length), `GET manifest: Content-Length is not ${bytes.length}`);

  const head = await client.head(`/v2/${repo}/manifests/${ref}`, { Accept: accept });
  expectStatus(head, 200);
  check(head, head.body.length === 0, 'HEAD manifest: has a body');
  check(head, header(head, 'content-type') === contentType, `HEAD manifest: Content-Type is not ${contentType}`);
  check(head, header(head, 'docker-content-digest') === digest, `HEAD manifest: Docker-Content-Digest is not ${digest}`);
  check(head, header(head, 'content-length') === String(bytes.length), `HEAD manifest: Content-Length is not ${bytes.length}`);
}

const ACCEPT_ALL = [MT.dockerManifest, MT.dockerList, MT.ociManifest, MT.ociIndex].join(', ');

describe('Docker schema2', () => {
  let amd64: PushedImage;
  let arm64: PushedImage;
  let list: Buffer;

  test('config and layer blobs are pushed and served back', async () => {
    amd64 = await pushImageBlobs(client, repo, { arch: 'amd64' });
    arm64 = await pushImageBlobs(client, repo, { arch: 'arm64', variant: 'v8' });
    for (const d of [amd64.config, amd64.layer]) {
      const r = await client.head(`/v2/${repo}/blobs/${d.digest}`);
      expectStatus(r, 200);
      check(r, header(r, 'content-length') === String(d.size), `blob HEAD: Content-Length is not ${d.size}`);
      check(r, header(r, 'docker-content-digest') === d.digest, 'blob HEAD: wrong Docker-Content-Digest');
    }
  });

  test('a schema2 manifest pushed by tag is served byte-for-byte by tag and by digest', async () => {
    await expectManifestPut('amd64', amd64.bytes, MT.dockerManifest);
    await expectServed('amd64', amd64.bytes, MT.dockerManifest, MT.dockerManifest);
    await expectServed(amd64.digest, amd64.bytes, MT.dockerManifest, MT.dockerManifest);
  });

  test('a schema2 manifest pushed by digest is served byte-for-byte', async () => {
    await expectManifestPut(arm64.digest, arm64.bytes, MT.dockerManifest);
    await expectServed(arm64.digest, arm64.bytes, MT.dockerManifest, ACCEPT_ALL);
  });

  test('a schema2 manifest list of the two is served byte-for-byte by tag and by digest', async () => {
    list = listBytes(MT.dockerList, [
      { image: amd64, arch: 'amd64' },
      { image: arm64, arch: 'arm64', variant: 'v8' },
    ]);
    await expectManifestPut('multi', list, MT.dockerList);
    await expectServed('multi', list, MT.dockerList, ACCEPT_ALL);
    await expectServed(sha256(list), list, MT.dockerList, ACCEPT_ALL);
    await expectServed('multi', list, MT.dockerList, MT.dockerList);
  });

  test('re-pushing identical bytes under another tag yields the same digest and both tags resolve', async () => {
    await expectManifestPut('multi-again', list, MT.dockerList);
    const tags = await client.get(`/v2/${repo}/tags/list`);
    expectStatus(tags, 200);
    const names = (JSON.parse(tags.body.toString()) as { tags: string[] }).tags;
    check(
      tags,
      ['amd64', 'multi', 'multi-again'].every((t) => names.includes(t)),
      'tags list misses a pushed tag',
    );
    expect(names).not.toContain(arm64.digest);
  });
});
