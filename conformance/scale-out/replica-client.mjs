// The client side of conformance/scale-out/replicas.sh: one chunked upload spread
// round-robin over three Berth replicas, with one replica killed (SIGKILL, by the
// PID it is given) in the middle of a PATCH it is receiving, and the upload finished
// through that replica once it has been restarted. Plain node:http, no retries
// hidden in a library, every wait bounded.
//
//   node replica-client.mjs push-until-kill STATE BLOB_MIB CHUNK_MIB URL_A URL_B URL_C VICTIM_INDEX VICTIM_PID
//       writes a random blob next to STATE, POSTs on A, PATCHes chunk i on replica (i+1) mod 3, and
//       while the second chunk addressed to VICTIM_INDEX is half sent, kills VICTIM_PID; saves STATE.
//   node replica-client.mjs resume STATE URL_A URL_B URL_C
//       (the victim restarted on its old address) GETs the upload status through the victim, resumes
//       from the offset it reports, PUTs through the victim, pulls the blob from another replica and
//       compares digests; then pushes a manifest on one replica and pulls it by tag from the others.
//       Prints one JSON line of figures.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { expectStatus, fail, MiB, request, sha256, sleep } from './http-lib.mjs';

const REPO = 'scale-out/replicas';

/** The end of the staged range a 202/204 upload answer reports (`Range: 0-<last>`), as the next offset. */
function offsetOf(res) {
  const m = /^0-(\d+)$/.exec(String(res.headers.range ?? ''));
  return m ? Number(m[1]) + 1 : 0;
}

async function patch(base, location, data, offset) {
  const end = offset + data.length - 1;
  return request(base, 'PATCH', location, {
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(data.length), 'Content-Range': `${offset}-${end}` },
    body: data,
  });
}

/** A PATCH, retried while the upload's lock is still held by a killed replica (a 416 naming the writer). Bounded. */
async function patchWhenFree(base, location, data, offset, boundMs) {
  const started = Date.now();
  for (let refused = 0; ; refused++) {
    const attempt = Date.now();
    const res = await patch(base, location, data, offset);
    const busy = res.status === 416 && res.body.toString('utf8').includes('another request is writing');
    if (!busy) return { res, waitedMs: attempt - started, refused };
    if (Date.now() - started > boundMs) fail(`upload still locked after ${boundMs} ms`);
    await sleep(250);
  }
}

async function pushUntilKill([statePath, blobMib, chunkMib, a, b, c, victimIndex, victimPid]) {
  const urls = [a, b, c];
  const victim = Number(victimIndex);
  const chunk = Number(chunkMib) * MiB;
  const blob = randomBytes(Number(blobMib) * MiB);
  const blobPath = `${statePath}.blob`;
  writeFileSync(blobPath, blob);
  const started = Date.now();

  const post = await request(urls[0], 'POST', `/v2/${REPO}/blobs/uploads/`, { headers: { 'Content-Length': '0' } });
  expectStatus(post, 202, `POST on replica 0`);
  let location = post.headers.location;
  const chunksBy = [0, 0, 0];
  let offset = 0;
  for (let i = 0; offset < blob.length; i++) {
    const target = (i + 1) % 3;
    const data = blob.subarray(offset, Math.min(offset + chunk, blob.length));
    // The victim's second chunk: by then every replica has taken part.
    if (target === victim && chunksBy[victim] === 1) {
      // The slow client: half the chunk, a pause so it reaches the replica, then the kill mid-request.
      const half = Math.floor(data.length / 2);
      let killedAt = 0;
      const res = await request(urls[target], 'PATCH', location, {
        headers: {
          'Content-Type': 'application/octet-stream',
          'Content-Length': String(data.length),
          'Content-Range': `${offset}-${offset + data.length - 1}`,
        },
        body: async (req) => {
          await new Promise((r) => req.write(data.subarray(0, half), r));
          await sleep(1500);
          process.kill(Number(victimPid), 'SIGKILL');
          killedAt = Date.now();
          await sleep(500);
          req.write(data.subarray(half, half + 64 * 1024));
          await sleep(10_000); // the replica is gone: the socket errors long before this
          req.end();
        },
      }).catch((err) => ({ error: err }));
      if (!res.error) fail(`the PATCH to the killed replica ${target} was answered (${res.status})`);
      writeFileSync(
        statePath,
        JSON.stringify({
          location,
          victim,
          offsetBeforeKill: offset,
          sentBeforeKill: offset + half,
          chunk,
          chunksBy,
          killedAt,
          started,
          blobPath,
          killError: res.error.code ?? res.error.message,
        }),
      );
      console.log(
        `killed replica ${victim} (pid ${victimPid}) mid-PATCH at ${offset + half} of ${blob.length} bytes (${res.error.code ?? res.error.message})`,
      );
      return;
    }
    const res = await patch(urls[target], location, data, offset);
    expectStatus(res, 202, `PATCH ${offset}+${data.length} on replica ${target}`);
    if (offsetOf(res) !== offset + data.length)
      fail(`replica ${target} reports Range ${res.headers.range} after ${offset + data.length} bytes`);
    chunksBy[target] += 1;
    location = res.headers.location;
    offset += data.length;
  }
  fail('the victim never received a chunk');
}

async function resume([statePath, a, b, c]) {
  const urls = [a, b, c];
  const state = JSON.parse(readFileSync(statePath, 'utf8'));
  const blob = readFileSync(state.blobPath);
  const digest = sha256(blob);
  const victimUrl = urls[state.victim];
  const chunksBy = state.chunksBy;

  const status = await request(victimUrl, 'GET', state.location);
  expectStatus(status, 204, `GET upload status through the restarted replica ${state.victim}`);
  const reported = offsetOf(status);
  if (reported < state.offsetBeforeKill || reported > state.sentBeforeKill) {
    fail(`restarted replica reports offset ${reported}, outside [${state.offsetBeforeKill}, ${state.sentBeforeKill}]`);
  }
  let offset = reported;
  let location = status.headers.location ?? state.location;
  let lockWaitMs = 0;
  let lockRefusals = 0;
  for (let i = 0; offset < blob.length; i++) {
    // Round-robin on from the replica after the victim; the last chunk goes to the victim itself.
    const data = blob.subarray(offset, Math.min(offset + state.chunk, blob.length));
    const last = offset + data.length >= blob.length;
    const target = last ? state.victim : (state.victim + 1 + i) % 3;
    const { res, waitedMs, refused } = await patchWhenFree(urls[target], location, data, offset, 60_000);
    lockWaitMs += waitedMs;
    lockRefusals += refused;
    expectStatus(res, 202, `resumed PATCH ${offset}+${data.length} on replica ${target}`);
    chunksBy[target] += 1;
    location = res.headers.location;
    offset += data.length;
  }
  const put = await request(victimUrl, 'PUT', `${location}${location.includes('?') ? '&' : '?'}digest=${digest}`, {
    headers: { 'Content-Length': '0' },
  });
  expectStatus(put, 201, `PUT ?digest= through the restarted replica ${state.victim}`);
  if (put.headers['docker-content-digest'] !== digest)
    fail(`PUT answered digest ${put.headers['docker-content-digest']}, expected ${digest}`);
  const pushedMs = Date.now() - state.started;

  const reader = (state.victim + 1) % 3;
  const pulled = await request(urls[reader], 'GET', `/v2/${REPO}/blobs/${digest}`);
  expectStatus(pulled, 200, `GET the blob from replica ${reader}`);
  const pulledDigest = sha256(pulled.body);
  if (pulledDigest !== digest || pulled.body.length !== blob.length)
    fail(`replica ${reader} served ${pulledDigest} (${pulled.body.length} bytes), expected ${digest}`);

  // A manifest pushed on one replica is pulled by tag from the other two.
  const config = Buffer.from('{}');
  const configDigest = sha256(config);
  const pushConfig = await request(urls[2], 'POST', `/v2/${REPO}/blobs/uploads/?digest=${configDigest}`, {
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(config.length) },
    body: config,
  });
  expectStatus(pushConfig, 201, 'POST ?digest= of the config on replica 2');
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: blob.length }],
    }),
  );
  const manifestDigest = sha256(manifest);
  const putManifest = await request(urls[1], 'PUT', `/v2/${REPO}/manifests/replicated`, {
    headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json', 'Content-Length': String(manifest.length) },
    body: manifest,
  });
  expectStatus(putManifest, 201, 'PUT manifest :replicated on replica 1');
  for (const i of [0, 2]) {
    const got = await request(urls[i], 'GET', `/v2/${REPO}/manifests/replicated`, {
      headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    expectStatus(got, 200, `GET manifest :replicated from replica ${i}`);
    if (sha256(got.body) !== manifestDigest || got.headers['docker-content-digest'] !== manifestDigest) {
      fail(`replica ${i} served manifest ${sha256(got.body)}, expected ${manifestDigest}`);
    }
  }
  console.log(
    JSON.stringify({
      blobBytes: blob.length,
      digest,
      pulledFrom: reader,
      pulledDigest,
      killedReplica: state.victim,
      killedAtBytes: state.sentBeforeKill,
      resumedFrom: reported,
      lockWaitMs,
      lockRefusals,
      chunksByReplica: chunksBy,
      pushSecondsIncludingRestart: pushedMs / 1000,
      manifestDigest,
      manifestPulledFrom: [0, 2],
    }),
  );
}

const [command, ...args] = process.argv.slice(2);
const run = { 'push-until-kill': pushUntilKill, resume }[command];
if (!run) fail(`unknown command ${command}`);
run(args).catch((err) => fail(err.stack ?? String(err)));
