// The client side of replicas.sh's PostgreSQL faults, over three replicas that share no file.
//
//   node pg-fault-client.mjs push-series PROGRESS STOP URL_A URL_B URL_C
//       pushes small images (a random layer, a config, a manifest tagged series-<n>) round-robin on the
//       replicas until the file STOP exists (at least 6), writing how many were attempted to PROGRESS after
//       each; a push refused with 503 (PostgreSQL down) is noted and retried after the series. Then every
//       tag that got 201 must resolve on every replica, its manifest and blobs pullable with their digests.
//       Prints one JSON line of figures.
//   node pg-fault-client.mjs requests-while-frozen SECONDS BOUND_MS URL_A URL_B URL_C
//       for SECONDS, keeps a manifest GET, a blob push and a /readyz going on each replica; every answer must
//       be 2xx or 503 and come within BOUND_MS (nothing hangs); then a push and pulls must succeed on every
//       replica. Prints the longest answer and the 503s seen.
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { expectStatus, fail, request, sha256, sleep } from './http-lib.mjs';

const REPO = 'scale-out/pg-faults';
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

/** One answer, timed; a request that errors or outlives timeoutMs counts as status 0. */
async function timed(base, method, path, options) {
  const started = Date.now();
  try {
    const res = await request(base, method, path, options);
    return { ...res, ms: Date.now() - started };
  } catch (err) {
    return { status: 0, error: String(err), ms: Date.now() - started, headers: {}, body: Buffer.alloc(0) };
  }
}

async function pushBlob(base, data, options = {}) {
  return timed(base, 'POST', `/v2/${REPO}/blobs/uploads/?digest=${sha256(data)}`, {
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(data.length) },
    body: data,
    ...options,
  });
}

/** One small image: its blobs and manifest; `push` returns the first non-201 answer, or the manifest's 201. */
function image(tag) {
  const layer = randomBytes(4096);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', tag }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST_TYPE,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
    }),
  );
  return {
    tag,
    blobs: [layer, config],
    manifest,
    async push(base, options = {}) {
      for (const blob of [layer, config]) {
        const res = await pushBlob(base, blob, options);
        if (res.status !== 201) return res;
      }
      return timed(base, 'PUT', `/v2/${REPO}/manifests/${tag}`, {
        headers: { 'Content-Type': MANIFEST_TYPE, 'Content-Length': String(manifest.length) },
        body: manifest,
        ...options,
      });
    },
  };
}

/** The tag resolves on `base` to this manifest, and every blob it names is pullable with its digest. */
async function verifyPulled(base, img, where) {
  const got = await request(base, 'GET', `/v2/${REPO}/manifests/${img.tag}`, { headers: { Accept: MANIFEST_TYPE } });
  expectStatus(got, 200, `GET manifest :${img.tag} from ${where}`);
  if (sha256(got.body) !== sha256(img.manifest)) fail(`${where} serves :${img.tag} as ${sha256(got.body)}, pushed ${sha256(img.manifest)}`);
  for (const blob of img.blobs) {
    const pulled = await request(base, 'GET', `/v2/${REPO}/blobs/${sha256(blob)}`);
    expectStatus(pulled, 200, `GET blob of :${img.tag} from ${where}`);
    if (sha256(pulled.body) !== sha256(blob)) fail(`${where} serves a blob of :${img.tag} with the wrong content`);
  }
}

/** Retries a push refused during an outage until it gets 201; bounded. */
async function retryPush(base, img, boundMs) {
  const started = Date.now();
  for (;;) {
    const res = await img.push(base);
    if (res.status === 201) return;
    if (Date.now() - started > boundMs) fail(`retrying :${img.tag}: still ${res.status} after ${boundMs} ms`);
    await sleep(500);
  }
}

async function pushSeries([progressPath, stopPath, ...urls]) {
  const pushed = [];
  const refused = [];
  for (let n = 0; n < 6 || !existsSync(stopPath); n++) {
    if (n > 400) fail('the series never got its STOP file');
    const img = image(`series-${n}`);
    const replica = n % urls.length;
    const res = await img.push(urls[replica], { timeoutMs: 30_000 });
    if (res.status === 201) pushed.push(img);
    else if (res.status === 503) refused.push({ img, replica, retryAfter: res.headers['retry-after'] });
    else fail(`push :${img.tag} on replica ${replica}: ${res.status} ${res.error ?? res.body.toString('utf8').slice(0, 300)}`);
    writeFileSync(progressPath, String(n + 1));
    await sleep(150);
  }
  for (const { img, replica } of refused) await retryPush(urls[replica], img, 30_000);
  for (const img of [...pushed, ...refused.map((r) => r.img)]) {
    for (const [i, base] of urls.entries()) await verifyPulled(base, img, `replica ${i}`);
  }
  const retryAfter = [...new Set(refused.map((r) => r.retryAfter))];
  console.log(JSON.stringify({ pushedFirstTime: pushed.length, refusedWith503ThenRetried: refused.length, retryAfter }));
}

async function requestsWhileFrozen([seconds, boundMs, ...urls]) {
  const bound = Number(boundMs);
  const seed = image('frozen-seed');
  await retryPush(urls[0], seed, 30_000);
  const until = Date.now() + Number(seconds) * 1000;
  const answers = [];
  // Each kind of request in a loop of its own on each replica, so one stalled answer does not pace the others.
  const kinds = {
    manifest: (base, options) =>
      timed(base, 'GET', `/v2/${REPO}/manifests/${seed.tag}`, { headers: { Accept: MANIFEST_TYPE }, ...options }),
    blob: (base, options) => pushBlob(base, randomBytes(1024), options),
    readyz: (base, options) => timed(base, 'GET', '/readyz', options),
  };
  const loop = async (base, replica, kind) => {
    while (Date.now() < until) {
      // The client's own bound is generous: an answer later than BOUND_MS fails below; none may be cut off here.
      const res = await kinds[kind](base, { timeoutMs: bound * 3 });
      answers.push({ replica, readyz: kind === 'readyz', status: res.status, ms: res.ms, error: res.error });
      await sleep(100);
    }
  };
  await Promise.all(urls.flatMap((base, replica) => Object.keys(kinds).map((kind) => loop(base, replica, kind))));
  const bad = answers.filter((a) => !(a.status >= 200 && a.status < 300) && a.status !== 503);
  if (bad.length > 0) fail(`answers neither 2xx nor 503: ${JSON.stringify(bad.slice(0, 5))}`);
  const longest = Math.max(...answers.map((a) => a.ms));
  if (longest > bound) fail(`an answer took ${longest} ms, over the ${bound} ms bound`);
  const unavailable = answers.filter((a) => a.status === 503 && !a.readyz).length;
  const notReady = answers.filter((a) => a.status === 503 && a.readyz).length;
  // Recovered: a new image pushed on one replica is pulled from every one.
  const after = image('after-thaw');
  await retryPush(urls[1], after, 30_000);
  for (const [i, base] of urls.entries()) await verifyPulled(base, after, `replica ${i} after the thaw`);
  console.log(JSON.stringify({ answers: answers.length, registry503: unavailable, readyz503: notReady, longestMs: longest }));
  if (notReady === 0) fail('/readyz never answered 503: the freeze did not reach the replicas');
  if (unavailable === 0) fail('no registry request met the frozen database (none answered 503)');
}

const [command, ...args] = process.argv.slice(2);
const run = { 'push-series': pushSeries, 'requests-while-frozen': requestsWhileFrozen }[command];
if (!run) fail(`unknown command ${command}`);
run(args).catch((err) => fail(err.stack ?? String(err)));
