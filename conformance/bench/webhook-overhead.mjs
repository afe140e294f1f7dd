// What webhooks cost a push (issue #16's goal: push throughput and manifest PUT latency with three hooks at a
// receiver that takes 2 s to answer within 5% of no hooks). One Berth (token auth, its default workers), three
// instance-wide hooks (every event) at such a receiver, and blocks of pushes with the hooks active and inactive in
// turn (ABBA order), so a machine whose load drifts over the run weighs on both alike; the servers-in-turn table
// of bench.mjs (berth-auth against berth-hooks, minutes apart) is at the mercy of that drift.
//
//   node conformance/bench/webhook-overhead.mjs     (make bench runs it after bench.mjs; needs `npm run build`)
//
// Environment: HOOK_BENCH_BLOCKS=8 (blocks, half of them with hooks), HOOK_BENCH_BLOCK_SECONDS=8 (manifest PUTs one
// after another for this long in each block: long enough that the hooks' deliveries are flowing while it runs),
// HOOK_BENCH_BLOB_MIB=64 (one monolithic blob push per block), BENCH_HOOKS_OUT=FILE (default
// conformance/bench/results/webhook-overhead.md).
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { treeCpuMs } from '../process-tree.mjs';
import {
  closeClient,
  digestOf,
  expectStatus,
  machineLine,
  median,
  pushBlob as pushBlobTo,
  quantile,
  request,
  startBerth,
  sum,
} from './berth-process.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const BLOCKS = Number(process.env.HOOK_BENCH_BLOCKS ?? 8);
const BLOCK_SECONDS = Number(process.env.HOOK_BENCH_BLOCK_SECONDS ?? 8);
const BLOB_MIB = Number(process.env.HOOK_BENCH_BLOB_MIB ?? 64);
const SLOW_MS = 2_000;
const HOOKS = 3;
const REPO = 'admin/hooked';
const OUT = process.env.BENCH_HOOKS_OUT ?? path.join(here, 'results', 'webhook-overhead.md');
const MiB = 1024 * 1024;
const log = (...a) => console.error('webhook-overhead:', ...a);

// The receiver: answers every delivery after SLOW_MS, in a process of its own. In the bench's process it took ~3
// deliveries per PUT on the event loop that times the PUTs, so the hooks' cost showed up in the client as well.
const RECEIVER = `
const http = require('node:http');
let received = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    received++;
    setTimeout(() => res.writeHead(200).end('ok'), Number(process.argv[1]));
  });
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (m) => (m === 'count' ? process.send({ received }) : process.exit(0)));
`;
const receiver = spawn(process.execPath, ['-e', RECEIVER, String(SLOW_MS)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const receiverReply = () => new Promise((resolve) => receiver.once('message', resolve));
const receivedSoFar = async () => {
  const reply = receiverReply();
  receiver.send('count');
  return (await reply).received;
};
const hookUrl = `http://127.0.0.1:${(await receiverReply()).port}/hook`;

// Berth, token auth, its default workers.
const { base, basic, bearer, pid } = await startBerth({
  name: 'hook',
  password: 'hook-bench-admin-password-0123',
  repository: REPO,
  env: { BERTH_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' },
});

const hookIds = [];
for (let i = 0; i < HOOKS; i++) {
  const body = JSON.stringify({ name: 'web', config: { url: hookUrl, content_type: 'json', secret: `s${i}` }, events: ['*'] });
  const r = await request(base, 'POST', '/api/v1/admin/hooks', { ...basic, 'Content-Type': 'application/json' }, body);
  hookIds.push(JSON.parse(expectStatus(r, 201, 'creating a hook').body).id);
}
async function setHooksActive(active) {
  for (const id of hookIds) {
    const r = await request(
      base,
      'PATCH',
      `/api/v1/admin/hooks/${id}`,
      { ...basic, 'Content-Type': 'application/json' },
      JSON.stringify({ active }),
    );
    expectStatus(r, 200, `PATCH hook ${id}`);
  }
}

// What each block pushes: one monolithic blob, then distinct manifests for BLOCK_SECONDS (each a new version, an event).
const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
const layer = randomBytes(1024);
let auth = await bearer();
const pushBlob = (bytes, digest) => pushBlobTo(base, auth, REPO, bytes, digest);
await pushBlob(config, digestOf(config));
await pushBlob(layer, digestOf(layer));
let serial = 0;
function manifest() {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digestOf(layer), size: layer.length }],
      annotations: { 'org.example.n': String(serial++) },
    }),
  );
}

// A warm-up, not counted: the first blob push and PUTs of a fresh server (page cache, JIT, SQLite's first pages) were
// the run's slowest, and the first block is one with hooks.
await setHooksActive(false);
await pushBlob(randomBytes(BLOB_MIB * MiB), undefined);
for (const until = Date.now() + 2_000; Date.now() < until;) {
  const headers = { ...auth, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' };
  expectStatus(await request(base, 'PUT', `/v2/${REPO}/manifests/warm${serial}`, headers, manifest()), 201, 'warm-up PUT');
}

const results = { on: { putMs: [], blobMibps: [], cpuMs: 0 }, off: { putMs: [], blobMibps: [], cpuMs: 0 } };
const receivedAtStart = await receivedSoFar();
for (let block = 0; block < BLOCKS; block++) {
  const hooked = [0, 3].includes(block % 4); // ABBA: on, off, off, on, …
  await setHooksActive(hooked);
  auth = await bearer();
  const into = results[hooked ? 'on' : 'off'];
  const blob = randomBytes(BLOB_MIB * MiB);
  const t0 = process.hrtime.bigint();
  await pushBlob(blob, digestOf(blob));
  into.blobMibps.push(BLOB_MIB / (Number(process.hrtime.bigint() - t0) / 1e9));
  const putsBefore = into.putMs.length;
  // Berth's CPU (primary and workers) while the PUTs run: with the client and the server sharing two cores, what
  // the hooks' relay and deliveries take is taken from the PUTs, whichever worker does it.
  const cpuBefore = treeCpuMs(pid);
  const until = Date.now() + BLOCK_SECONDS * 1000;
  while (Date.now() < until) {
    const body = manifest();
    const started = process.hrtime.bigint();
    const headers = { ...auth, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' };
    expectStatus(await request(base, 'PUT', `/v2/${REPO}/manifests/t${serial}`, headers, body), 201, 'manifest PUT');
    into.putMs.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  const puts = into.putMs.length - putsBefore;
  into.cpuMs += treeCpuMs(pid) - cpuBefore;
  log(
    `block ${block + 1}/${BLOCKS}, hooks ${hooked ? 'on' : 'off'}: blob ${into.blobMibps.at(-1).toFixed(0)} MiB/s, ${puts} PUTs, median ${median(into.putMs.slice(-puts)).toFixed(2)} ms`,
  );
}
const deliveries = (await receivedSoFar()) - receivedAtStart;

const rows = [
  ['manifest PUT p50 (ms, lower is better)', median(results.off.putMs), median(results.on.putMs), 'lower'],
  ['manifest PUT p99 (ms, lower is better)', quantile(results.off.putMs, 0.99), quantile(results.on.putMs, 0.99), 'lower'],
  [
    'manifest PUTs per second, one client',
    (1000 * results.off.putMs.length) / sum(results.off.putMs),
    (1000 * results.on.putMs.length) / sum(results.on.putMs),
    'higher',
  ],
  [
    "Berth's CPU per manifest PUT, all its processes (ms, lower is better)",
    results.off.cpuMs / results.off.putMs.length,
    results.on.cpuMs / results.on.putMs.length,
    'lower',
    'not a goal of its own: what the PUT rows pay for',
  ],
  [`monolithic push ${BLOB_MIB} MiB, median of blocks (MiB/s)`, median(results.off.blobMibps), median(results.on.blobMibps), 'higher'],
];
const GOAL = 0.95;
const lines = ['| figure | no hooks | 3 slow hooks | hooks/none |', '|---|---:|---:|---:|'];
for (const [name, off, on, dir, noGoal] of rows) {
  const r = dir === 'higher' ? on / off : off / on;
  const mark = noGoal ? `(${noGoal})` : r >= GOAL ? '✓' : '✗';
  lines.push(`| ${name} | ${off.toFixed(2)} | ${on.toFixed(2)} | ${r.toFixed(2)} ${mark} |`);
}
const notes = [
  `One Berth (token auth, BERTH_WORKERS=auto: ${Math.min(os.availableParallelism(), 8)} workers here), three instance-wide hooks (every event) at a receiver (a process of its own) that answers each delivery after ${SLOW_MS / 1000} s; after a warm-up that is not counted (one blob push and 2 s of PUTs, hooks off), ${BLOCKS} blocks with the hooks active and inactive in turn (ABBA), each one monolithic ${BLOB_MIB} MiB blob push and ${BLOCK_SECONDS} s of manifest PUTs one after another on a kept-alive connection (${results.off.putMs.length} without hooks, ${results.on.putMs.length} with), each PUT a new version (an event for every hook).`,
  `Ratios are oriented so that ≥ 1.00 means no cost; ✓/✗ on issue #16's goal, within 5% (≥ ${GOAL.toFixed(2)}). The receiver got ${deliveries} deliveries during the run (${HOOKS} × ${results.on.putMs.length} were queued by the blocks with hooks on; a hook switched off drops what it still had queued).`,
  machineLine(),
];
const text = `${lines.join('\n')}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`;
console.log(text);
writeFileSync(OUT, `# Webhook overhead on pushes — ${new Date().toISOString()}\n\n${text}`);
log(`written to ${path.relative(process.cwd(), OUT)}`);
closeClient();
receiver.send('stop');
process.exit(0);
