// 6. Upload sessions: a client that disconnects mid-PATCH, out-of-order chunks, wrong digests,
//    cancelled uploads. (The kill -9 case is in restart.e2e.ts.)
import { openServer, ServerHandle, stopAll } from './support/berth-process';
import { Client, check, expectOciError, expectStatus, header, parseUploadRange } from './support/http';
import { MiB, patternChunks, patternDigest, patternSlice, repoName, sha256, uniqueBytes } from './support/data';
import { interruptedPatch, patchRange, uploadStatus, whenUploadIdle } from './support/uploads';

let server: ServerHandle;
let client: Client;
const repo = repoName('uploads');

beforeAll(async () => {
  server = await openServer();
  client = new Client(server.url);
});

afterAll(async () => {
  client?.close();
  await server?.close();
  await stopAll();
});

// Out-of-order chunk: OCI names no code for the 416; BLOB_UPLOAD_INVALID (OCI) or RANGE_INVALID (Docker v2).
const RANGE_CODES = ['BLOB_UPLOAD_INVALID', 'RANGE_INVALID'];

async function expectBlob(digest: string, size: number): Promise<void> {
  const got = await client.blobDigest(repo, digest);
  expect({ status: got.status, size: got.size, digest: got.digest }).toEqual({ status: 200, size, digest });
  expect(got.headers['docker-content-digest']).toBe(digest);
  const h = await client.head(`/v2/${repo}/blobs/${digest}`);
  expectStatus(h, 200);
  check(h, header(h, 'content-length') === String(size), `HEAD Content-Length is not ${size}`);
}

describe('interrupted and resumed uploads', () => {
  test('(a) client disconnects midway through a 64 MiB PATCH; status shows what was kept; resume and finish', async () => {
    const seed = 0xa11ce;
    const FIRST = 4 * MiB;
    const TOTAL = FIRST + 64 * MiB;
    const digest = await patternDigest(seed, TOTAL);

    const { location: loc0 } = await client.startUpload(repo);
    const { location: loc1 } = await patchRange(client, loc0, seed, 0, FIRST);

    const cut = await interruptedPatch({
      client,
      location: loc1,
      seed,
      start: FIRST,
      end: TOTAL,
      stopAfter: 20 * MiB,
      interrupt: (req) => {
        req.destroy();
      },
    });
    expect(cut.status).toBeUndefined(); // the server must not have completed a request it never fully got
    // Not a fixed pause: the server may notice the disconnect late on a loaded machine.
    const idle = await whenUploadIdle(client, loc1);

    const st = await uploadStatus(client, idle.location);
    check(st.reply, st.received === idle.received, `status Range end+1 = ${st.received}, the idle probe saw ${idle.received}`);
    check(st.reply, st.received >= FIRST, `Range end+1 = ${st.received} < ${FIRST}: the first, acknowledged chunk was lost`);
    check(st.reply, st.received <= FIRST + cut.written, `Range end+1 = ${st.received} > ${FIRST + cut.written} bytes ever sent`);

    const { location: loc2 } = await patchRange(client, st.location, seed, st.received, TOTAL);
    const put = await client.request('PUT', loc2, { query: { digest } });
    expectStatus(put, 201);
    check(put, header(put, 'docker-content-digest') === digest, 'PUT: wrong Docker-Content-Digest');
    check(put, !!header(put, 'location'), 'PUT: 201 without Location');
    await expectBlob(digest, TOTAL);
  });

  test('(c) an out-of-order PATCH → 416; the session keeps its offset and still completes', async () => {
    const data = uniqueBytes(300);
    const digest = sha256(data);
    const { location: loc0 } = await client.startUpload(repo);
    const p1 = await client.request('PATCH', loc0, {
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': '0-99' },
      body: data.subarray(0, 100),
    });
    expectStatus(p1, 202);
    check(p1, parseUploadRange(p1) === 99, 'Range after the first chunk is not 0-99');
    const loc1 = client.resolve(header(p1, 'location')!).toString();

    // A gap (starts after the current offset) and an overlap (starts before it).
    for (const [range, slice] of [
      ['200-299', data.subarray(200, 300)],
      ['50-149', data.subarray(50, 150)],
      ['0-99', data.subarray(0, 100)],
    ] as const) {
      const bad = await client.request('PATCH', loc1, {
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': range },
        body: slice,
      });
      expectOciError(bad, 416, RANGE_CODES);
      const st = await uploadStatus(client, loc1);
      check(st.reply, st.received === 100, `after a refused ${range} chunk the upload holds ${st.received} bytes, not 100`);
    }

    const p2 = await client.request('PATCH', loc1, {
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': '100-299' },
      body: data.subarray(100),
    });
    expectStatus(p2, 202);
    check(p2, parseUploadRange(p2) === 299, 'Range after the second chunk is not 0-299');
    const put = await client.request('PUT', header(p2, 'location')!, { query: { digest } });
    expectStatus(put, 201);
    const g = await client.get(`/v2/${repo}/blobs/${digest}`);
    expectStatus(g, 200);
    check(g, g.body.equals(data), 'assembled blob differs');
  });

  test('(d) PUT with a wrong digest → 400 DIGEST_INVALID; the blob exists under neither digest', async () => {
    const data = uniqueBytes(1000);
    const actual = sha256(data);
    const claimed = sha256(uniqueBytes(1000));
    const { location } = await client.startUpload(repo);
    const put = await client.request('PUT', location, {
      query: { digest: claimed },
      headers: { 'Content-Type': 'application/octet-stream' },
      body: data,
    });
    expectOciError(put, 400, ['DIGEST_INVALID']);
    for (const d of [claimed, actual]) {
      const h = await client.head(`/v2/${repo}/blobs/${d}`);
      check(
        h,
        h.status === 404,
        `blob ${d === actual ? 'under its real digest' : 'under the claimed digest'} is available after DIGEST_INVALID`,
      );
      expectOciError(await client.get(`/v2/${repo}/blobs/${d}`), 404, ['BLOB_UNKNOWN']);
    }
  });

  test('(d) chunked: PATCH then a closing PUT with a wrong digest → 400 DIGEST_INVALID; nothing stored', async () => {
    const seed = 0xd16;
    const size = 3 * MiB + 5;
    const actual = await patternDigest(seed, size);
    const claimed = sha256(uniqueBytes(16));
    const { location: loc0 } = await client.startUpload(repo);
    const { location: loc1 } = await patchRange(client, loc0, seed, 0, size);
    const put = await client.request('PUT', loc1, { query: { digest: claimed } });
    expectOciError(put, 400, ['DIGEST_INVALID']);
    for (const d of [claimed, actual]) {
      const h = await client.head(`/v2/${repo}/blobs/${d}`);
      check(
        h,
        h.status === 404,
        `blob ${d === actual ? 'under its real digest' : 'under the claimed digest'} is available after DIGEST_INVALID`,
      );
    }
  });

  test('(d) PUT with a malformed digest → 400 DIGEST_INVALID', async () => {
    for (const bad of ['sha256:xyz', 'sha256:' + 'A'.repeat(64), 'nope']) {
      // A fresh session each time: after a 4xx the session may be gone.
      const { location } = await client.startUpload(repo);
      const r = await client.request('PUT', location, {
        query: { digest: bad },
        headers: { 'Content-Type': 'application/octet-stream' },
        body: Buffer.from('hello'),
      });
      expectOciError(r, 400, ['DIGEST_INVALID']);
    }
  });

  test('(e) DELETE of an upload → 204; afterwards GET/PATCH/PUT on it → 404 BLOB_UPLOAD_UNKNOWN', async () => {
    const data = await patternSlice(0xe, 0, 4096);
    const { location: loc0 } = await client.startUpload(repo);
    const { location: loc1 } = await patchRange(client, loc0, 0xe, 0, 2048);
    const del = await client.request('DELETE', loc1);
    expectStatus(del, 204);
    expectOciError(await client.get(loc1), 404, ['BLOB_UPLOAD_UNKNOWN']);
    expectOciError(
      await client.request('PATCH', loc1, {
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': '2048-4095' },
        body: data.subarray(2048),
      }),
      404,
      ['BLOB_UPLOAD_UNKNOWN'],
    );
    expectOciError(await client.request('PUT', loc1, { query: { digest: sha256(data) } }), 404, ['BLOB_UPLOAD_UNKNOWN']);
    expectOciError(await client.request('DELETE', loc1), 404, ['BLOB_UPLOAD_UNKNOWN']);
    expect((await client.head(`/v2/${repo}/blobs/${sha256(data)}`)).status).toBe(404);
  });

  test('an upload id the server never issued → 404 BLOB_UPLOAD_UNKNOWN', async () => {
    expectOciError(await client.get(`/v2/${repo}/blobs/uploads/00000000-0000-4000-8000-000000000000`), 404, ['BLOB_UPLOAD_UNKNOWN']);
  });

  test('a streamed 16 MiB monolithic PUT (no PATCH) completes and hashes right', async () => {
    const seed = 0x16;
    const size = 16 * MiB + 3;
    const digest = await patternDigest(seed, size);
    const { location } = await client.startUpload(repo);
    const put = await client.request('PUT', location, {
      query: { digest },
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': size },
      body: patternChunks(seed, 0, size),
    });
    expectStatus(put, 201);
    await expectBlob(digest, size);
  });
});
