// Process lifecycle: SIGTERM exits, data survives restarts, and (6b) an upload interrupted by
// kill -9 midway through a PATCH resumes after a restart on the same data dir.
// Always spawns its own server (BERTH_E2E_URL is not used here).
import { BerthProcess, stopAll } from './support/berth-process';
import { Client, MT, check, expectStatus, header } from './support/http';
import { MiB, patternChunks, patternDigest, repoName } from './support/data';
import { pushImageBlobs } from './support/images';
import { interruptedPatch, patchRange, uploadStatus } from './support/uploads';

let server: BerthProcess;
let client: Client;
const repo = repoName('restart');

beforeAll(async () => {
  server = await BerthProcess.start();
  client = new Client(server.url);
});

afterAll(async () => {
  client?.close();
  await stopAll();
});

describe('process lifecycle', () => {
  test('blobs, manifests and tags survive a SIGTERM restart', async () => {
    const img = await pushImageBlobs(client, repo);
    expectStatus(await client.putManifest(repo, 'kept', img.bytes, img.mediaType), 201);
    const oldPid = server.pid;
    const exit = await server.stop(); // throws if SIGTERM does not end it within 10 s
    expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
    await server.restart();
    expect(server.pid).not.toBe(oldPid);
    client.resetConnections();

    const g = await client.get(`/v2/${repo}/manifests/kept`, { Accept: MT.dockerManifest });
    expectStatus(g, 200);
    check(g, g.body.equals(img.bytes), 'manifest differs after restart');
    check(g, header(g, 'content-type') === MT.dockerManifest, 'Content-Type lost after restart');
    for (const d of [img.config, img.layer]) {
      const b = await client.blobDigest(repo, d.digest);
      expect({ status: b.status, size: b.size, digest: b.digest }).toEqual({ status: 200, size: d.size, digest: d.digest });
    }
    const t = await client.get(`/v2/${repo}/tags/list`);
    expectStatus(t, 200);
    expect(JSON.parse(t.body.toString()).tags).toContain('kept');
  });

  test('(b) kill -9 midway through a 64 MiB PATCH; after a restart the session resumes and completes', async () => {
    const seed = 0xb0b;
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
      interrupt: () => server.kill9(),
    });
    expect(cut.status).toBeUndefined();
    expect(server.running).toBe(false);

    await server.restart();
    client.resetConnections();

    const st = await uploadStatus(client, loc1);
    check(st.reply, st.received >= FIRST, `Range end+1 = ${st.received} < ${FIRST}: the acknowledged first chunk was lost`);
    check(st.reply, st.received <= FIRST + cut.written, `Range end+1 = ${st.received} > ${FIRST + cut.written} bytes ever sent`);

    // Finish with the rest in the closing PUT itself (the other resume path from (a)).
    const put = await client.request('PUT', st.location, {
      query: { digest },
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Range': `${st.received}-${TOTAL - 1}`,
        'Content-Length': TOTAL - st.received,
      },
      body: patternChunks(seed, st.received, TOTAL),
    });
    expectStatus(put, 201);
    check(put, header(put, 'docker-content-digest') === digest, 'PUT: wrong Docker-Content-Digest');
    const b = await client.blobDigest(repo, digest);
    expect({ status: b.status, size: b.size, digest: b.digest }).toEqual({ status: 200, size: TOTAL, digest });
  });

  test('kill -9 right after a chunk was acknowledged loses nothing of it', async () => {
    const seed = 0xc0c;
    const SIZE = 6 * MiB;
    const digest = await patternDigest(seed, SIZE);
    const { location: loc0 } = await client.startUpload(repo);
    const { location: loc1 } = await patchRange(client, loc0, seed, 0, 3 * MiB);
    await server.kill9();
    await server.restart();
    client.resetConnections();
    const st = await uploadStatus(client, loc1);
    check(st.reply, st.received === 3 * MiB, `after kill -9 the upload holds ${st.received} bytes, not the acknowledged ${3 * MiB}`);
    const { location: loc2 } = await patchRange(client, st.location, seed, 3 * MiB, SIZE);
    const put = await client.request('PUT', loc2, { query: { digest } });
    expectStatus(put, 201);
    const b = await client.blobDigest(repo, digest);
    expect({ status: b.status, size: b.size, digest: b.digest }).toEqual({ status: 200, size: SIZE, digest });
  });

  test('the server exits on SIGTERM within 10 s while an upload session is open', async () => {
    await client.startUpload(repo);
    const t0 = Date.now();
    await server.stop();
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(server.running).toBe(false);
  });
});
