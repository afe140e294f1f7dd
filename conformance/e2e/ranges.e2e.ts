// 3. Blob byte ranges (RFC 9110 range requests on GET /v2/<name>/blobs/<digest>).
import { openServer, ServerHandle, stopAll } from './support/berth-process';
import { Client, Reply, check, expectStatus, header } from './support/http';
import { MiB, patternSlice, repoName, sha256, uniqueBytes } from './support/data';

let server: ServerHandle;
let client: Client;
const repo = repoName('ranges');
const small = uniqueBytes(100);
let smallDigest: string;
let big: Buffer;
let bigDigest: string;

beforeAll(async () => {
  server = await openServer();
  client = new Client(server.url);
  smallDigest = await client.pushBlob(repo, small);
  big = await patternSlice(Date.now() & 0xffff, 0, 3 * MiB + 17);
  bigDigest = await client.pushBlob(repo, big);
});

afterAll(async () => {
  client?.close();
  await server?.close();
  await stopAll();
});

function blobUrl(digest: string): string {
  return `/v2/${repo}/blobs/${digest}`;
}

function expectPartial(r: Reply, data: Buffer, first: number, last: number): void {
  expectStatus(r, 206);
  check(
    r,
    header(r, 'content-range') === `bytes ${first}-${last}/${data.length}`,
    `Content-Range is not "bytes ${first}-${last}/${data.length}"`,
  );
  check(r, header(r, 'content-length') === String(last - first + 1), `Content-Length is not ${last - first + 1}`);
  check(r, r.body.equals(data.subarray(first, last + 1)), `body is not bytes ${first}-${last}`);
}

describe('blob byte ranges', () => {
  test('HEAD shows Accept-Ranges: bytes, Content-Length, Docker-Content-Digest and an ETag', async () => {
    const r = await client.head(blobUrl(smallDigest));
    expectStatus(r, 200);
    check(r, header(r, 'accept-ranges') === 'bytes', 'Accept-Ranges is not "bytes"');
    check(r, header(r, 'content-length') === '100', 'Content-Length is not 100');
    check(r, header(r, 'docker-content-digest') === smallDigest, `Docker-Content-Digest is not ${smallDigest}`);
    check(r, /^(W\/)?"[^"]+"$/.test(header(r, 'etag') ?? ''), 'ETag missing or not a quoted entity-tag');
    check(r, r.body.length === 0, 'HEAD has a body');
  });

  test('GET without Range → 200 with the whole blob', async () => {
    const r = await client.get(blobUrl(smallDigest));
    expectStatus(r, 200);
    check(r, r.body.equals(small), 'body differs');
    check(r, header(r, 'docker-content-digest') === smallDigest, 'wrong Docker-Content-Digest');
    check(r, sha256(r.body) === smallDigest, 'body does not hash to the digest');
  });

  test('Range: bytes=0-9 → 206, bytes 0-9/100', async () => {
    expectPartial(await client.get(blobUrl(smallDigest), { Range: 'bytes=0-9' }), small, 0, 9);
  });

  test('Range: bytes=10- → 206, bytes 10-99/100', async () => {
    expectPartial(await client.get(blobUrl(smallDigest), { Range: 'bytes=10-' }), small, 10, 99);
  });

  test('Range: bytes=-5 → 206, the last 5 bytes', async () => {
    expectPartial(await client.get(blobUrl(smallDigest), { Range: 'bytes=-5' }), small, 95, 99);
  });

  test('Range: bytes=90-1000 (end past the size) → 206, bytes 90-99/100', async () => {
    expectPartial(await client.get(blobUrl(smallDigest), { Range: 'bytes=90-1000' }), small, 90, 99);
  });

  test('Range: bytes=99-99 → 206, the last byte', async () => {
    expectPartial(await client.get(blobUrl(smallDigest), { Range: 'bytes=99-99' }), small, 99, 99);
  });

  test('a range in the middle of a 3 MiB blob → 206 with exactly those bytes', async () => {
    const first = MiB - 7;
    const last = 2 * MiB + 12;
    expectPartial(await client.get(blobUrl(bigDigest), { Range: `bytes=${first}-${last}` }), big, first, last);
  });

  for (const range of ['bytes=100-', 'bytes=100-200', 'bytes=5000-6000']) {
    test(`Range: ${range} (start ≥ size) → 416 with Content-Range: bytes */100`, async () => {
      const r = await client.get(blobUrl(smallDigest), { Range: range });
      expectStatus(r, 416);
      check(r, header(r, 'content-range') === 'bytes */100', 'Content-Range is not "bytes */100"');
    });
  }
});
