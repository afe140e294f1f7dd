// What online garbage collection costs (issue #22's bench row): a registry with GC_BENCH_BLOBS blobs of which 10%
// are garbage, one collection of it on demand (POST /api/v1/admin/gc, grace 5 s), its time, and the pushes per
// second of clients pushing while it runs against the same clients with no collection running (before and after).
// A second collection right after (nothing changed) shows that the work follows what changed, not the store's size.
// At the end it checks, by sample, that the garbage answers 404 and what manifests reference still answers 200.
//
//   node conformance/bench/gc.mjs     (make bench runs it after bench.mjs; needs `npm run build`)
//
// Environment: GC_BENCH_BLOBS=100000, GC_BENCH_PUSHERS=4 (clients pushing a 512-byte layer and a manifest in a
// loop), GC_BENCH_BASELINE_SECONDS=10 (each of the two windows without a collection), BENCH_GC_OUT=FILE (default
// conformance/bench/results/gc.md). Berth runs on its embedded default (filesystem, SQLite, BERTH_WORKERS=auto).
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeClient, digestOf, expectStatus, machineLine, median, quantile, request, sleep, startBerth } from './berth-process.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const BLOBS = Number(process.env.GC_BENCH_BLOBS ?? 100_000);
const PUSHERS = Number(process.env.GC_BENCH_PUSHERS ?? 4);
const BASELINE_SECONDS = Number(process.env.GC_BENCH_BASELINE_SECONDS ?? 10);
const OUT = process.env.BENCH_GC_OUT ?? path.join(here, 'results', 'gc.md');
const LAYERS_PER_MANIFEST = 10;
const FILL_CONCURRENCY = 16;
const BLOB_BYTES = 512;
const REPO = 'admin/gc-bench';
// Shorter than the windows around the collection, so every fill blob is past it when the collection starts, and
// far longer than a push's POST-to-PUT, so no pusher's layer is taken before its manifest names it.
const GRACE_SECONDS = 5;
const log = (...a) => console.error('gc-bench:', ...a);

const { base, basic, bearer } = await startBerth({
  name: 'gc',
  password: 'gc-bench-admin-password-0123',
  repository: REPO,
  env: { BERTH_GC_INTERVAL_HOURS: '0' },
});
// Tokens live minutes; the fill outlasts one.
let auth = await bearer();
let authAt = Date.now();
async function currentAuth() {
  if (Date.now() - authAt > 60_000) {
    authAt = Date.now();
    auth = await bearer();
  }
  return auth;
}

/** A blob in one request: the monolithic POST with ?digest=. */
async function postBlob(bytes) {
  const digest = digestOf(bytes);
  const headers = { ...(await currentAuth()), 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.length) };
  expectStatus(await request(base, 'POST', `/v2/${REPO}/blobs/uploads/?digest=${digest}`, headers, bytes), 201, 'monolithic POST');
  return digest;
}

const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
const configDigest = await postBlob(config);
let serial = 0;
async function putManifest(layerDigests) {
  const body = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: layerDigests.map((digest) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: BLOB_BYTES })),
      annotations: { 'org.example.n': String(serial++) },
    }),
  );
  const headers = { ...(await currentAuth()), 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' };
  expectStatus(await request(base, 'PUT', `/v2/${REPO}/manifests/m${serial}`, headers, body), 201, 'manifest PUT');
}

async function inParallel(count, concurrency, work) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

// The fill: BLOBS blobs, then manifests of LAYERS_PER_MANIFEST layers each over the first 90% of them.
const started = Date.now();
const digests = new Array(BLOBS);
await inParallel(BLOBS, FILL_CONCURRENCY, async (i) => {
  digests[i] = await postBlob(randomBytes(BLOB_BYTES));
  if ((i + 1) % 10_000 === 0) log(`${i + 1} blobs pushed`);
});
const referenced = Math.floor((BLOBS * 0.9) / LAYERS_PER_MANIFEST) * LAYERS_PER_MANIFEST;
await inParallel(referenced / LAYERS_PER_MANIFEST, FILL_CONCURRENCY, (m) =>
  putManifest(digests.slice(m * LAYERS_PER_MANIFEST, (m + 1) * LAYERS_PER_MANIFEST)),
);
const fillSeconds = (Date.now() - started) / 1000;
log(`filled in ${fillSeconds.toFixed(0)} s: ${BLOBS} blobs, ${referenced / LAYERS_PER_MANIFEST} manifests`);

// Pushers: each push is a new 512-byte layer and a manifest naming it (what a CI push does, smaller).
const pushes = [];
let pushing = true;
const pushers = Array.from({ length: PUSHERS }, async () => {
  while (pushing) {
    const t0 = process.hrtime.bigint();
    const layer = await postBlob(randomBytes(BLOB_BYTES));
    await putManifest([layer]);
    pushes.push({ at: Date.now(), ms: Number(process.hrtime.bigint() - t0) / 1e6 });
  }
});
const window = (from, to) => pushes.filter((p) => p.at >= from && p.at < to);

async function collect() {
  const headers = { ...basic, 'Content-Type': 'application/json' };
  const t0 = Date.now();
  const r = expectStatus(
    await request(base, 'POST', '/api/v1/admin/gc', headers, JSON.stringify({ grace_seconds: GRACE_SECONDS })),
    200,
    'POST gc',
  );
  return { from: t0, to: Date.now(), summary: JSON.parse(r.body) };
}

await sleep(1_000); // the pushers reach their pace
const before = { from: Date.now(), to: Date.now() + BASELINE_SECONDS * 1000 };
await sleep(BASELINE_SECONDS * 1000);
const first = await collect();
log(`collection: ${JSON.stringify(first.summary)}`);
const after = { from: Date.now(), to: Date.now() + BASELINE_SECONDS * 1000 };
await sleep(BASELINE_SECONDS * 1000);
pushing = false;
await Promise.all(pushers);
// The pushers' own blobs are garbage-free (each is referenced by its manifest); a second collection finds only them.
const second = await collect();
log(`second collection: ${JSON.stringify(second.summary)}`);

// By sample: the garbage is gone, what manifests reference is intact.
const headAuth = await bearer();
const sampleStatus = async (indexes) => {
  const statuses = [];
  for (const i of indexes) statuses.push((await request(base, 'HEAD', `/v2/${REPO}/blobs/${digests[i]}`, headAuth)).status);
  return statuses;
};
const garbageSample = Array.from({ length: 200 }, (_, k) => referenced + Math.floor((k * (BLOBS - referenced)) / 200));
const keptSample = Array.from({ length: 200 }, (_, k) => Math.floor((k * referenced) / 200));
const garbageStatuses = await sampleStatus(garbageSample);
const keptStatuses = await sampleStatus(keptSample);
if (garbageStatuses.some((s) => s !== 404) || keptStatuses.some((s) => s !== 200)) {
  throw new Error(`after GC: garbage HEAD ${[...new Set(garbageStatuses)]}, kept HEAD ${[...new Set(keptStatuses)]}`);
}
if (first.summary.objects < BLOBS - referenced) {
  throw new Error(`the collection reclaimed ${first.summary.objects} objects; ${BLOBS - referenced} were garbage`);
}

const seconds = (w) => (w.to - w.from) / 1000;
const rate = (w) => window(w.from, w.to).length / seconds(w);
const none = {
  rate: (rate(before) + rate(after)) / 2,
  ms: [...window(before.from, before.to), ...window(after.from, after.to)].map((p) => p.ms),
};
const during = { rate: rate(first), ms: window(first.from, first.to).map((p) => p.ms) };
const fmt = (x, d = 1) => (x === undefined ? '—' : x.toFixed(d));
const lines = [
  '| figure | value |',
  '|---|---:|',
  `| collection of ${BLOBS.toLocaleString('en')} blobs, ${(BLOBS - referenced).toLocaleString('en')} garbage: time (s, API's own figure) | ${fmt(first.summary.seconds, 2)} |`,
  `| objects / bytes reclaimed | ${first.summary.objects} / ${first.summary.bytes} |`,
  `| second collection right after, nothing new to reclaim: time (s) | ${fmt(second.summary.seconds, 2)} (${second.summary.objects} objects) |`,
  `| pushes per second, no collection running (${PUSHERS} clients) | ${fmt(none.rate)} |`,
  `| pushes per second while the collection runs | ${fmt(during.rate)} (${during.ms.length} pushes) |`,
  `| during / none | ${fmt(during.rate / none.rate, 2)} |`,
  `| push latency p50 / p99, no collection (ms) | ${fmt(median(none.ms))} / ${fmt(quantile(none.ms, 0.99))} |`,
  `| push latency p50 / p99, during the collection (ms) | ${fmt(median(during.ms))} / ${fmt(quantile(during.ms, 0.99))} |`,
];
const notes = [
  `Berth on its embedded default (filesystem blobs, SQLite, BERTH_WORKERS=auto), token auth. The fill (${fillSeconds.toFixed(0)} s): ${BLOBS} blobs of ${BLOB_BYTES} bytes by monolithic POST, ${FILL_CONCURRENCY} at a time, then ${referenced / LAYERS_PER_MANIFEST} manifests of ${LAYERS_PER_MANIFEST} layers naming ${referenced} of them; the rest is garbage. The collection is POST /api/v1/admin/gc with a grace of ${GRACE_SECONDS} s (past for every fill blob), so every blob is a candidate once.`,
  `A push is a new ${BLOB_BYTES}-byte layer (monolithic POST) and a manifest naming it, by ${PUSHERS} clients in a loop on kept-alive connections; "no collection" is ${BASELINE_SECONDS} s before it and ${BASELINE_SECONDS} s after, averaged.`,
  `Checked after: 200 sampled garbage blobs answer HEAD 404, 200 sampled referenced ones 200.`,
  machineLine(),
];
const text = `${lines.join('\n')}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`;
console.log(text);
writeFileSync(OUT, `# Online garbage collection under pushes — ${new Date().toISOString()}\n\n${text}`);
log(`written to ${path.relative(process.cwd(), OUT)}`);
closeClient();
process.exit(0);
