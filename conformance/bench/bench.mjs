// Side-by-side benchmark: Berth (open mode), Berth with bearer tokens, CNCF Distribution 2.8.2 and
// Distribution 3, one server at a time on a free loopback port, the identical workload against each,
// one table at the end (stdout and conformance/bench/results/latest.md).
//
//   node conformance/bench/bench.mjs          (make bench: installs the servers and wrk, builds Berth, runs this)
//
// Environment: D2=PATH D3=PATH (the Distribution binaries; conformance/bench/install.sh prints them),
// BENCH_SERVERS=berth,berth-nocount,berth-1,berth-auth,berth-hooks,berth-pg,d2,d3 (a subset to run; berth-nocount is Berth
// with download counting off, berth-1 is Berth as one process, berth-hooks is berth-auth with three webhooks at a
// receiver that takes 2 s to answer,
// berth-pg Berth on PostgreSQL), BENCH_DATABASE_URL=postgres://… (the PostgreSQL berth-pg uses: run.sh starts
// one when unset; each berth-pg start gets a fresh database on it), BENCH_SECONDS=10 (each load-generator run),
// BENCH_ROUNDS=3 (push and one-stream GET rounds; the median is reported), BENCH_LARGE_MIB=2048 (0 skips
// the large push), BENCH_OUT=FILE (the table's file), BENCH_KEEP=1 (keep data directories and logs),
// BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" (passed to Berth's node, for profiling),
// BENCH_PHASES=standard,fresh (a subset: `standard` is the workload below with its churn rows, `fresh`
// the pushes by a new curl process per request, curl-pushes.mjs), BENCH_CHURN=0 (skip the no-keep-alive
// load rows), BENCH_FRESH_MIB=256,1024,2048 and BENCH_FRESH_CHUNKS_MIB=8,1 (sizes of the `fresh` pushes),
// BENCH_STEPS=pushes,blob-get,manifest,proxy,head,tags,large (a subset of the `standard` phase's steps, to repeat a
// doubtful row without the rest: e.g. BENCH_STEPS=manifest,tags BENCH_SERVERS=berth,berth-pg).
//
// Load generator: Debian's wrk (C, epoll, 2 threads): on a 2-core machine a client that costs little
// CPU is what keeps the figures about the servers; Debian's hey (Go) for blob HEAD, which wrk cannot do. Everything else (pushes, the 1000-tag push) is this
// script's own keep-alive HTTP client; the one-stream GET uses curl.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { treePeakRss } from '../process-tree.mjs';
import { blobFile, chunkFiles, pushChunksWithCurl, pushFileWithCurl } from './curl-pushes.mjs';
import { requestsOn } from './berth-process.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const MiB = 1024 * 1024;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LARGE_MIB = Number(process.env.BENCH_LARGE_MIB ?? 2048);
const BLOB_MIB = 256;
const SETTLE_MS = 3_000;
const CHUNK_MIB = 8;
const TAGS = 1000;
const REPO = 'admin/bench'; // under the admin user's namespace, so the token-mode Berth takes it too
const PASSWORD = 'bench-admin-password-0123456789';
const OUT = process.env.BENCH_OUT ?? path.join(here, 'results', 'latest.md');
const KEEP = process.env.BENCH_KEEP === '1';
const list = (v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const PHASES = new Set(list(process.env.BENCH_PHASES ?? 'standard,fresh'));
const CHURN = process.env.BENCH_CHURN !== '0';
const FRESH_MIB = list(process.env.BENCH_FRESH_MIB ?? '256,1024,2048').map(Number);
const FRESH_CHUNKS_MIB = list(process.env.BENCH_FRESH_CHUNKS_MIB ?? '8,1').map(Number);
const ALL_CURL_MODES = [
  ['upload', 'curl -T file'],
  ['upload-no-expect', "curl -T file -H 'Expect:'"],
  ['data', 'curl --data-binary @file'],
];
// BENCH_CURL_MODES=data,upload runs those monolithic curl rows in that order (default: all, in the order above).
const CURL_MODES = process.env.BENCH_CURL_MODES
  ? list(process.env.BENCH_CURL_MODES).map((m) => {
      const found = ALL_CURL_MODES.find(([key]) => key === m);
      if (!found) throw new Error(`BENCH_CURL_MODES: no mode ${m} (${ALL_CURL_MODES.map(([key]) => key).join(', ')})`);
      return found;
    })
  : ALL_CURL_MODES;
const STEPS = new Set(list(process.env.BENCH_STEPS ?? 'pushes,blob-get,manifest,proxy,head,tags,large'));
const DATABASE_URL = process.env.BENCH_DATABASE_URL;
// berth-hooks is not in the default list: webhook-overhead.mjs (run by make bench) measures the same cost with the
// blocks interleaved on one server, which the machine's drift between servers run in turn does not swamp.
const wanted = (process.env.BENCH_SERVERS ?? 'berth,berth-nocount,berth-1,berth-auth,berth-pg,d2,d3')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

const work = mkdtempSync(path.join(process.env.TMPDIR ?? os.tmpdir(), 'berth-bench-'));
const children = new Set();
function cleanup() {
  for (const child of children) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (!KEEP) rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => process.exit(130));

const log = (...a) => console.error('bench:', ...a);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Servers

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function distributionConfig(dir, port) {
  // Distribution's own example config minus what has no Berth counterpart: filesystem storage,
  // deletes on, the in-memory blob descriptor cache it ships with, warn logs, no access log, no auth.
  const file = path.join(dir, 'config.yml');
  writeFileSync(
    file,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${path.join(dir, 'storage')}`,
      '  delete:',
      '    enabled: true',
      '  cache:',
      '    blobdescriptor: inmemory',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  return file;
}

const SERVERS = {
  // With a pull-through cache of itself under `self/` (issue #21): the `proxy` step compares a cached pull with a local one.
  berth: {
    label: 'Berth',
    auth: false,
    command: (dir, port) => berthCommand(dir, port, { BERTH_AUTH: 'none', BERTH_WORKERS: 'auto', BERTH_PROXIES: selfProxy(port) }),
  },
  'berth-1': {
    label: 'Berth, 1 process',
    auth: false,
    command: (dir, port) => berthCommand(dir, port, { BERTH_AUTH: 'none', BERTH_WORKERS: '1' }),
  },
  'berth-pg': {
    label: 'Berth on PostgreSQL',
    auth: false,
    database: true,
    command: (dir, port, databaseUrl) => berthCommand(dir, port, { BERTH_AUTH: 'none', BERTH_WORKERS: 'auto', DATABASE_URL: databaseUrl }),
  },
  // Issue #15: download counting must not slow the pull path; the same Berth with counting off, side by side.
  'berth-nocount': {
    label: 'Berth, counting off',
    auth: false,
    command: (dir, port) => berthCommand(dir, port, { BERTH_AUTH: 'none', BERTH_WORKERS: 'auto', BERTH_DOWNLOAD_COUNTS: 'false' }),
  },
  'berth-auth': {
    label: 'Berth+auth',
    auth: true,
    command: (dir, port) => berthCommand(dir, port, { BERTH_AUTH: 'token', BERTH_ADMIN_PASSWORD: PASSWORD, BERTH_WORKERS: 'auto' }),
  },
  // Issue #16: webhooks must not slow pushes; berth-auth with three instance hooks whose receiver takes 2 s to answer.
  'berth-hooks': {
    label: 'Berth+auth, 3 slow hooks',
    auth: true,
    hooks: 3,
    command: (dir, port) =>
      berthCommand(dir, port, {
        BERTH_AUTH: 'token',
        BERTH_ADMIN_PASSWORD: PASSWORD,
        BERTH_WORKERS: 'auto',
        BERTH_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      }),
  },
  d2: {
    label: 'Distribution 2.8.2',
    auth: false,
    command: (dir, port) => ({ cmd: process.env.D2 || 'docker-registry', args: ['serve', distributionConfig(dir, port)], env: {} }),
  },
  d3: {
    label: 'Distribution 3',
    auth: false,
    command: (dir, port) => ({
      cmd: process.env.D3 || path.join(os.homedir(), '.cache/berth/bin/distribution-v3.0.0/registry'),
      args: ['serve', distributionConfig(dir, port)],
      // v3 exports OpenTelemetry traces by default; nothing listens for them here.
      env: { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none', OTEL_SDK_DISABLED: 'true' },
    }),
  },
};

/** A proxy prefix `self` whose upstream is the server itself: `self/admin/bench` caches `admin/bench`. */
function selfProxy(port) {
  return JSON.stringify([{ prefix: 'self', url: `http://127.0.0.1:${port}`, access: 'anonymous', tagTtlSeconds: 3600 }]);
}

function berthCommand(dir, port, env) {
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return {
    cmd: process.execPath,
    args: [...nodeArgs, path.join(root, 'dist', 'cli.js'), 'serve'],
    env: { BERTH_ADDR: `127.0.0.1:${port}`, BERTH_DATA: path.join(dir, 'data'), BERTH_LOG_LEVEL: 'warn', ...env },
  };
}

async function startServer(key, name) {
  const spec = SERVERS[key];
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const database = spec.database ? await freshDatabase(name) : null;
  const { cmd, args, env } = spec.command(dir, port, database?.url);
  const out = path.join(dir, 'server.log');
  const fd = (await import('node:fs')).openSync(out, 'a');
  // Only berth-pg gets a DATABASE_URL: one in the bench's own environment must not move the others off SQLite.
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const child = spawn(cmd, args, { env: { ...inherited, ...env }, stdio: ['ignore', fd, fd], cwd: dir });
  children.add(child);
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${spec.label} exited at start; log ${out}:\n${readFileSync(out, 'utf8')}`);
    try {
      const r = await request(base, 'GET', '/v2/');
      if (r.status === 200 || r.status === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${spec.label} did not answer /v2/ in 30 s; log ${out}`);
    await sleep(100);
  }
  // Measured once started, not while starting: Berth's cluster primary forks its other workers after
  // the first one answers. The same pause for every server.
  await sleep(SETTLE_MS);
  const server = { key, label: spec.label, auth: spec.auth, base, pid: child.pid, child, dir, log: out, token: null };
  if (spec.hooks) await addSlowHooks(server, spec.hooks);
  server.stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    children.delete(child);
    await database?.drop();
  };
  return server;
}

/** A webhook receiver that answers every delivery after SLOW_HOOK_MS, counting what it received. */
const SLOW_HOOK_MS = 2_000;
let slowReceiver;
async function slowHookUrl() {
  if (!slowReceiver) {
    const state = { received: 0 };
    const srv = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        state.received++;
        setTimeout(() => res.writeHead(200).end('ok'), SLOW_HOOK_MS);
      });
    });
    await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
    srv.unref();
    slowReceiver = { state, url: `http://127.0.0.1:${srv.address().port}/hook` };
  }
  return slowReceiver.url;
}
const slowHookDeliveries = () => slowReceiver?.state.received ?? 0;

/** Instance-wide hooks (every package, every event) at the slow receiver, created as the admin. */
async function addSlowHooks(server, count) {
  const basic = Buffer.from(`admin:${PASSWORD}`).toString('base64');
  for (let i = 0; i < count; i++) {
    const body = JSON.stringify({
      name: 'web',
      config: { url: await slowHookUrl(), content_type: 'json', secret: `s${i}` },
      events: ['*'],
    });
    const r = await request(
      server.base,
      'POST',
      '/api/v1/admin/hooks',
      { Authorization: `Basic ${basic}`, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) },
      body,
    );
    if (r.status !== 201) throw new Error(`creating hook ${i + 1}: ${r.status} ${r.body.slice(0, 300)}`);
  }
}

/**
 * A new, empty database on BENCH_DATABASE_URL's server for one start of berth-pg, so each start begins with
 * no tables, as each other server begins with an empty data directory; dropped when that server stops.
 */
let databaseCounter = 0;
async function freshDatabase(name) {
  if (!DATABASE_URL) throw new Error('berth-pg needs BENCH_DATABASE_URL (run.sh starts a PostgreSQL and sets it)');
  const { default: pg } = await import('pg');
  const db = `berth_bench_${process.pid}_${databaseCounter++}_${name.replace(/[^a-z0-9]/g, '_')}`;
  const admin = async (sql) => {
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${db}`);
  const url = new URL(DATABASE_URL);
  url.pathname = `/${db}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`) };
}

/** Peak RSS of the server: the sum over its processes (Berth's cluster primary and workers; one for Distribution). */
function peakRssMiB(pid) {
  return treePeakRss(pid).sum;
}

/** Token mode: a bearer token from /token with Basic admin credentials, as `docker login` + push would. */
async function refreshToken(server) {
  if (!server.auth) return;
  const basic = Buffer.from(`admin:${PASSWORD}`).toString('base64');
  const scopes = [REPO, `${REPO}-tags`].map((r) => `scope=${encodeURIComponent(`repository:${r}:pull,push,delete`)}`).join('&');
  const challenge = await request(server.base, 'GET', '/v2/');
  const service = /service="([^"]*)"/.exec(challenge.headers['www-authenticate'] ?? '')?.[1] ?? '';
  const r = await request(server.base, 'GET', `/token?service=${encodeURIComponent(service)}&${scopes}`, {
    Authorization: `Basic ${basic}`,
  });
  if (r.status !== 200) throw new Error(`/token: ${r.status} ${r.body}`);
  server.token = JSON.parse(r.body).token;
}

function authHeaders(server) {
  return server.token ? { Authorization: `Bearer ${server.token}` } : {};
}

// ---------------------------------------------------------------------------------------------
// HTTP client (keep-alive) for pushes

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
const request = requestsOn(agent);

/** Writes the buffers in order with backpressure, then ends the request. */
function writeAll(buffers) {
  return (req) => {
    let i = 0;
    const pump = () => {
      while (i < buffers.length) {
        if (!req.write(buffers[i++])) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  };
}

function expect(r, status, what) {
  if (r.status !== status) throw new Error(`${what}: expected ${status}, got ${r.status} ${r.body.slice(0, 300)}`);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Test data: a 256 MiB blob made of 1 MiB pieces (random, incompressible) whose last piece varies per
// round, so each push uploads a blob the server has not seen; the digest of the shared prefix is
// computed once.

const block = randomBytes(MiB);
const prefix = [];
for (let i = 0; i < BLOB_MIB - 1; i++) {
  const b = Buffer.from(block);
  b.writeUInt32LE(i, 0);
  prefix.push(b);
}
const prefixHash = createHash('sha256');
for (const p of prefix) prefixHash.update(p);
let variantCounter = 0;
function blobVariant() {
  const last = randomBytes(MiB);
  last.writeUInt32LE(variantCounter++, 0);
  const digest = `sha256:${prefixHash.copy().update(last).digest('hex')}`;
  return { pieces: [...prefix, last], digest, size: BLOB_MIB * MiB };
}
const small = randomBytes(4 * MiB);
const smallDigest = `sha256:${createHash('sha256').update(small).digest('hex')}`;
const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;

function manifest(layer, n) {
  const m = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.digest, size: layer.size }],
  };
  if (n !== undefined) m.annotations = { 'org.example.n': String(n) };
  return Buffer.from(JSON.stringify(m));
}

// ---------------------------------------------------------------------------------------------
// Workloads

async function pushMonolithic(server, blob) {
  const started = process.hrtime.bigint();
  const post = expect(await request(server.base, 'POST', `/v2/${REPO}/blobs/uploads/`, authHeaders(server)), 202, 'POST upload');
  const loc = new URL(post.headers.location, server.base);
  loc.searchParams.set('digest', blob.digest);
  const put = await request(
    server.base,
    'PUT',
    loc.pathname + loc.search,
    { ...authHeaders(server), 'Content-Type': 'application/octet-stream', 'Content-Length': String(blob.size) },
    writeAll(blob.pieces),
  );
  expect(put, 201, 'monolithic PUT');
  return blob.size / MiB / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function pushChunked(server, blob) {
  const started = process.hrtime.bigint();
  const post = expect(await request(server.base, 'POST', `/v2/${REPO}/blobs/uploads/`, authHeaders(server)), 202, 'POST upload');
  let location = post.headers.location;
  const per = CHUNK_MIB; // pieces are 1 MiB
  for (let from = 0; from < blob.pieces.length; from += per) {
    const pieces = blob.pieces.slice(from, from + per);
    const start = from * MiB;
    const end = start + pieces.length * MiB - 1;
    const patch = await request(
      server.base,
      'PATCH',
      location,
      {
        ...authHeaders(server),
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(end - start + 1),
        'Content-Range': `${start}-${end}`,
      },
      writeAll(pieces),
    );
    expect(patch, 202, `PATCH ${start}-${end}`);
    location = patch.headers.location;
  }
  const loc = new URL(location, server.base);
  loc.searchParams.set('digest', blob.digest);
  expect(
    await request(server.base, 'PUT', loc.pathname + loc.search, { ...authHeaders(server), 'Content-Length': '0' }),
    201,
    'chunked PUT',
  );
  return blob.size / MiB / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function pushSmall(server, bytes, digest) {
  const post = expect(await request(server.base, 'POST', `/v2/${REPO}/blobs/uploads/`, authHeaders(server)), 202, 'POST upload');
  const loc = new URL(post.headers.location, server.base);
  loc.searchParams.set('digest', digest);
  expect(
    await request(
      server.base,
      'PUT',
      loc.pathname + loc.search,
      { ...authHeaders(server), 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.length) },
      bytes,
    ),
    201,
    'small blob PUT',
  );
}

async function putManifest(server, repo, reference, body) {
  return expect(
    await request(
      server.base,
      'PUT',
      `/v2/${repo}/manifests/${reference}`,
      { ...authHeaders(server), 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
      body,
    ),
    201,
    `PUT manifest ${reference}`,
  );
}

/** One-stream GET with curl (C, no per-byte work of ours): MiB/s as curl measures it. */
function curlGet(server, p) {
  const args = ['-sS', '--fail', '-o', '/dev/null', '-w', '%{speed_download} %{size_download}', `${server.base}${p}`];
  if (server.token) args.unshift('-H', `Authorization: Bearer ${server.token}`);
  const [speed, size] = execFileSync('curl', args, { encoding: 'utf8' }).trim().split(' ').map(Number);
  return { mibps: speed / MiB, size };
}

/**
 * Every load run is preceded by an identical, shorter one that is not counted, against every
 * server alike: the figures are of a server in steady state, not of its first second (a JIT
 * compiling the route, caches filling, the first connections being accepted).
 */
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);

/** Connection churn: the server closes each connection after its response, so every request opens a new one. */
const CLOSE = { Connection: 'close' };

/** wrk GETs one URL; returns req/s, MiB/s (of bodies and headers), p50 and p99 in ms, and errors. */
function wrk(server, p, { connections, headers = {} }) {
  if (WARMUP_SECONDS > 0) wrkOnce(server, p, { connections, headers, seconds: WARMUP_SECONDS });
  return wrkOnce(server, p, { connections, headers, seconds: SECONDS });
}

function wrkOnce(server, p, { connections, headers, seconds }) {
  const method = 'GET';
  const args = ['-t', '2', '-c', String(connections), '-d', `${seconds}s`, '--latency', '--timeout', '10s'];
  for (const [k, v] of Object.entries({ ...headers, ...authHeaders(server) })) args.push('-H', `${k}: ${v}`);
  args.push(`${server.base}${p}`);
  const r = spawnSync('wrk', args, { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr || r.stdout}`);
  const out = r.stdout;
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : NaN;
  };
  const ms = (re) => {
    const m = re.exec(out);
    if (!m) return NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : m[2] === 'm' ? v * 60000 : v;
  };
  const non2xx = num(/Non-2xx or 3xx responses: (\d+)/) || 0;
  const socketErrors = /Socket errors: (.*)/.exec(out)?.[1] ?? '';
  const requests = num(/(\d+) requests in/);
  if (non2xx > 0 || requests === 0) throw new Error(`wrk ${method} ${p}: ${non2xx} non-2xx of ${requests}\n${out}`);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50: ms(/\s50%\s+([\d.]+)(us|ms|s|m)\b/),
    p99: ms(/\s99%\s+([\d.]+)(us|ms|s|m)\b/),
    socketErrors,
    raw: out,
  };
}

/**
 * hey (Go, Debian) for HEAD only: wrk's parser waits for the body a HEAD answer's Content-Length
 * announces, so it never completes a HEAD request. Returns req/s, p50 and p99 in ms.
 */
function hey(server, p, { connections, method, churn = false }) {
  if (WARMUP_SECONDS > 0) heyOnce(server, p, { connections, method, churn, seconds: WARMUP_SECONDS });
  return heyOnce(server, p, { connections, method, churn, seconds: SECONDS });
}

function heyOnce(server, p, { connections, method, churn, seconds }) {
  const args = ['-z', `${seconds}s`, '-c', String(connections), '-m', method, '-t', '10'];
  if (churn) args.push('-disable-keepalive');
  for (const [k, v] of Object.entries(authHeaders(server))) args.push('-H', `${k}: ${v}`);
  args.push(`${server.base}${p}`);
  const r = spawnSync('hey', args, { encoding: 'utf8', timeout: (seconds + 30) * 1000, maxBuffer: 64 * MiB });
  if (r.status !== 0) throw new Error(`hey failed: ${r.stderr || r.stdout}`);
  const out = r.stdout;
  const codes = [...out.matchAll(/\[(\d{3})\]\s+(\d+) responses/g)].map((m) => [Number(m[1]), Number(m[2])]);
  const bad = codes.filter(([c]) => c < 200 || c > 299);
  if (codes.length === 0 || bad.length > 0 || /Error distribution/.test(out)) throw new Error(`hey ${method} ${p}:\n${out.slice(-3000)}`);
  const num = (re) => Number(re.exec(out)?.[1]);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50: num(/50% in ([\d.]+) secs/) * 1000,
    p99: num(/99% in ([\d.]+) secs/) * 1000,
    socketErrors: '',
  };
}

/**
 * Between servers: drop the data the last one wrote (unless BENCH_KEEP) and flush dirty pages, so
 * the next server does not pay for the previous one's writeback (gigabytes per server) and every
 * server starts from the same disk state, whichever runs first.
 */
function settleDisk(server) {
  if (!KEEP) rmSync(server.dir, { recursive: true, force: true });
  spawnSync('sync', { timeout: 120_000 });
}

/** The page cache's dirty and writeback pages, MiB: a server that writes fast may leave the next push the kernel's writeback. */
function dirtyMiB() {
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0);
  return Math.round((kib('Dirty') + kib('Writeback')) / 1024);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The server's processes' peaks so far, for the log: which phase drove the peak RSS. */
function rssSoFar(server) {
  const t = treePeakRss(server.pid);
  return `peak RSS so far ${t.sum.toFixed(0)} MiB (${t.perProcess.map((p) => p.mib.toFixed(0)).join(' + ')})`;
}

async function runWorkload(key) {
  const r = { label: SERVERS[key].label };
  if (PHASES.has('standard')) Object.assign(r, await standardWorkload(key));
  if (PHASES.has('fresh') && !r.error) Object.assign(r, await freshConnectionPushes(key));
  return r;
}

/**
 * A fresh server takes pushes sent by a new curl process per request (curl-pushes.mjs): chunked at
 * every size and chunk size, then monolithic, a 256 MiB file in one PUT, each way curl sends a file.
 */
async function freshConnectionPushes(key) {
  const server = await startServer(key, `${key}-fresh`);
  const r = {};
  try {
    await refreshToken(server);
    for (const chunkMiB of FRESH_CHUNKS_MIB) {
      const files = chunkFiles(server.dir, chunkMiB);
      try {
        for (const sizeMiB of FRESH_MIB) {
          await refreshToken(server);
          const p = pushChunksWithCurl(server, REPO, sizeMiB, files);
          r[freshKey(chunkMiB, sizeMiB)] = p;
          log(
            `  ${sizeMiB} MiB in ${chunkMiB} MiB PATCHes, new connection each: ${p.mibps.toFixed(0)} MiB/s; PATCH first/middle/last ` +
              `${p.firstMs.toFixed(0)}/${p.middleMs.toFixed(0)}/${p.lastMs.toFixed(0)} ms (load ${os.loadavg()[0].toFixed(2)}); ${rssSoFar(server)}`,
          );
        }
      } finally {
        files.remove();
      }
    }
    const file = path.join(server.dir, 'mono.bin');
    for (const [mode, what] of CURL_MODES) {
      await refreshToken(server);
      const rounds = [];
      const dirty = [];
      for (let i = 0; i < ROUNDS; i++) {
        const digest = blobFile(file, BLOB_MIB, block);
        // Each push starts with the kernel's writeback done (untimed): the chunked rows before leave ~2 GiB dirty,
        // and pushes over it ran at the disk's pace (125-175 MiB/s, either server) instead of the page cache's.
        dirty.push(dirtyMiB());
        spawnSync('sync', { timeout: 120_000 });
        rounds.push(pushFileWithCurl(server, REPO, file, BLOB_MIB, digest, mode));
      }
      r[`curlMono_${mode}`] = median(rounds);
      log(
        `  monolithic ${BLOB_MIB} MiB, ${what}: ${rounds.map((x) => x.toFixed(0)).join(', ')} MiB/s (load ${os.loadavg()[0].toFixed(2)}; ` +
          `dirty and writeback pages synced before each: ${dirty.join(', ')} MiB)`,
      );
    }
  } catch (e) {
    log(`${server.label} fresh-connection pushes failed: ${e.message}\n  its log: ${server.log}`);
    r.freshError = e.message;
  } finally {
    await server.stop();
    settleDisk(server);
  }
  return r;
}

const freshKey = (chunkMiB, sizeMiB) => `fresh_${chunkMiB}_${sizeMiB}`;

async function standardWorkload(key) {
  const server = await startServer(key, key);
  const r = {};
  const deliveriesBefore = slowHookDeliveries();
  try {
    log(`${server.label}: pid ${server.pid} at ${server.base}`);
    await refreshToken(server);

    let last;
    if (STEPS.has('pushes')) {
      const mono = [];
      for (let i = 0; i < ROUNDS; i++) mono.push(await pushMonolithic(server, blobVariant()));
      r.pushMono = median(mono);
      log(`  monolithic push ${mono.map((x) => x.toFixed(0)).join(', ')} MiB/s; ${rssSoFar(server)}`);

      await refreshToken(server);
      const chunked = [];
      for (let i = 0; i < ROUNDS; i++) {
        last = blobVariant();
        chunked.push(await pushChunked(server, last));
      }
      r.pushChunked = median(chunked);
      log(`  chunked push ${chunked.map((x) => x.toFixed(0)).join(', ')} MiB/s; ${rssSoFar(server)}`);
    }

    // The content the read phases use: the last 256 MiB blob, a 4 MiB blob, a config, a tagged manifest.
    await refreshToken(server);
    await pushSmall(server, small, smallDigest);
    await pushSmall(server, config, configDigest);
    await putManifest(server, REPO, 'latest', manifest({ digest: smallDigest, size: small.length }));

    if (last) {
      const gets = [];
      for (let i = 0; i < ROUNDS; i++) {
        const g = curlGet(server, `/v2/${REPO}/blobs/${last.digest}`);
        if (g.size !== last.size) throw new Error(`GET of the 256 MiB blob returned ${g.size} bytes`);
        gets.push(g.mibps);
      }
      r.getOne = median(gets);
      log(`  one-stream GET ${gets.map((x) => x.toFixed(0)).join(', ')} MiB/s; ${rssSoFar(server)}`);
    }

    if (STEPS.has('blob-get')) {
      await refreshToken(server);
      const blobGets = wrk(server, `/v2/${REPO}/blobs/${smallDigest}`, { connections: 32 });
      r.get4Rps = blobGets.rps;
      r.get4Mibps = blobGets.rps * 4;
      log(`  4 MiB GET x32: ${blobGets.rps} req/s ${blobGets.socketErrors}; ${rssSoFar(server)}`);
      if (CHURN) {
        r.get4ChurnRps = wrk(server, `/v2/${REPO}/blobs/${smallDigest}`, { connections: 32, headers: CLOSE }).rps;
        log(`  4 MiB GET x32, no keep-alive: ${r.get4ChurnRps} req/s`);
      }
    }

    if (STEPS.has('manifest')) {
      await refreshToken(server);
      const mf = wrk(server, `/v2/${REPO}/manifests/latest`, {
        connections: 64,
        headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      Object.assign(r, { manifestRps: mf.rps, manifestP50: mf.p50, manifestP99: mf.p99 });
      log(`  manifest GET x64: ${mf.rps} req/s p50 ${mf.p50} ms p99 ${mf.p99} ms ${mf.socketErrors}; ${rssSoFar(server)}`);
      if (CHURN) {
        const c = wrk(server, `/v2/${REPO}/manifests/latest`, {
          connections: 64,
          headers: { Accept: 'application/vnd.oci.image.manifest.v1+json', ...CLOSE },
        });
        Object.assign(r, { manifestChurnRps: c.rps, manifestChurnP99: c.p99 });
        log(`  manifest GET x64, no keep-alive: ${c.rps} req/s p99 ${c.p99} ms ${c.socketErrors}`);
      }
    }

    // Issue #21: a pull served from the pull-through cache against the same pull of the local repository, on
    // the server that has a `self` proxy; local and cached runs alternate, so the machine's drift hits both.
    if (STEPS.has('proxy') && key === 'berth' && last) {
      const cached = `self/${REPO}`;
      const warm = curlGet(server, `/v2/${cached}/blobs/${last.digest}`);
      if (warm.size !== last.size) throw new Error(`the first pull through the cache returned ${warm.size} bytes`);
      const manifestPath = (name) => `/v2/${name}/manifests/latest`;
      expect(
        await request(server.base, 'GET', manifestPath(cached), { Accept: 'application/vnd.oci.image.manifest.v1+json' }),
        200,
        'manifest GET through the cache',
      );
      const local = [];
      const through = [];
      for (let i = 0; i < ROUNDS; i++) {
        local.push(curlGet(server, `/v2/${REPO}/blobs/${last.digest}`).mibps);
        through.push(curlGet(server, `/v2/${cached}/blobs/${last.digest}`).mibps);
      }
      Object.assign(r, { proxyGetOne: median(through), proxyGetRatio: median(through) / median(local) });
      log(
        `  cached vs local one-stream GET: ${through.map((x) => x.toFixed(0)).join(', ')} vs ${local.map((x) => x.toFixed(0)).join(', ')} MiB/s`,
      );
      const accept = { Accept: 'application/vnd.oci.image.manifest.v1+json' };
      const localRuns = [];
      const cachedRuns = [];
      for (let i = 0; i < 3; i++) {
        localRuns.push(wrk(server, manifestPath(REPO), { connections: 64, headers: accept }).rps);
        cachedRuns.push(wrk(server, manifestPath(cached), { connections: 64, headers: accept }).rps);
      }
      const [localRps, cachedRps] = [median(localRuns), median(cachedRuns)];
      Object.assign(r, { proxyManifestRps: cachedRps, proxyManifestRatio: cachedRps / localRps });
      log(
        `  cached vs local manifest GET x64, alternating: ${cachedRuns.join(', ')} vs ${localRuns.join(', ')} req/s; ${rssSoFar(server)}`,
      );
    }

    if (STEPS.has('head')) {
      await refreshToken(server);
      const head = hey(server, `/v2/${REPO}/blobs/${smallDigest}`, { connections: 64, method: 'HEAD' });
      r.headRps = head.rps;
      log(`  blob HEAD x64: ${head.rps} req/s ${head.socketErrors}; ${rssSoFar(server)}`);
      if (CHURN) {
        r.headChurnRps = hey(server, `/v2/${REPO}/blobs/${smallDigest}`, { connections: 64, method: 'HEAD', churn: true }).rps;
        log(`  blob HEAD x64, no keep-alive: ${r.headChurnRps} req/s`);
      }
    }

    // 1000 tags, each a distinct manifest, pushed one after another as a client would.
    if (STEPS.has('tags')) {
      await refreshToken(server);
      const tagsRepo = `${REPO}-tags`;
      for (const d of [smallDigest, configDigest]) {
        const mount = await request(server.base, 'POST', `/v2/${tagsRepo}/blobs/uploads/?mount=${d}&from=${REPO}`, {
          ...authHeaders(server),
          'Content-Length': '0',
        });
        expect(mount, 201, `mount ${d} into ${tagsRepo}`);
      }
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < TAGS; i++)
        await putManifest(server, tagsRepo, `t${String(i).padStart(4, '0')}`, manifest({ digest: smallDigest, size: small.length }, i));
      r.tagPushSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      log(`  ${TAGS} tags pushed in ${r.tagPushSeconds.toFixed(2)} s; ${rssSoFar(server)}`);
      const list = await request(server.base, 'GET', `/v2/${tagsRepo}/tags/list`, authHeaders(server));
      const count = JSON.parse(list.body).tags?.length;
      if (count !== TAGS) throw new Error(`tags list of ${tagsRepo} has ${count} tags, expected ${TAGS}`);
      const tl = wrk(server, `/v2/${tagsRepo}/tags/list`, { connections: 32 });
      r.tagsListRps = tl.rps;
      log(`  tags list x32: ${tl.rps} req/s ${tl.socketErrors}; ${rssSoFar(server)}`);
      if (CHURN) {
        r.tagsListChurnRps = wrk(server, `/v2/${tagsRepo}/tags/list`, { connections: 32, headers: CLOSE }).rps;
        log(`  tags list x32, no keep-alive: ${r.tagsListChurnRps} req/s`);
      }
    }

    r.rss = peakRssMiB(server.pid);
    log(`  peak RSS ${r.rss.toFixed(0)} MiB`);
    if (SERVERS[key].hooks) {
      r.hookDeliveries = slowHookDeliveries() - deliveriesBefore;
      log(`  webhook deliveries received during the run: ${r.hookDeliveries}`);
    }
  } catch (e) {
    log(`${server.label} failed: ${e.message}\n  its log: ${server.log}`);
    if (!KEEP) log(readFileSync(server.log, 'utf8').slice(-2000));
    r.error = e.message;
  } finally {
    await server.stop();
    settleDisk(server);
  }
  if (LARGE_MIB > 0 && STEPS.has('large') && !r.error) Object.assign(r, await largePush(key));
  return r;
}

/** A fresh server takes one LARGE_MIB blob in one streamed PATCH; its peak RSS after. */
const largeDigest = LARGE_MIB > 0 ? largeBlobDigest() : null;
function largeBlobPiece(i) {
  const b = Buffer.from(block);
  b.writeUInt32LE(i, 4);
  b.writeUInt32LE(0xb16b10b, 0);
  return b;
}
function largeBlobDigest() {
  const h = createHash('sha256');
  for (let i = 0; i < LARGE_MIB; i++) h.update(largeBlobPiece(i));
  return `sha256:${h.digest('hex')}`;
}
async function largePush(key) {
  const server = await startServer(key, `${key}-large`);
  try {
    await refreshToken(server);
    const started = process.hrtime.bigint();
    const post = expect(await request(server.base, 'POST', `/v2/${REPO}/blobs/uploads/`, authHeaders(server)), 202, 'POST upload');
    const body = (req) => {
      let i = 0;
      const pump = () => {
        while (i < LARGE_MIB) if (!req.write(largeBlobPiece(i++))) return void req.once('drain', pump);
        req.end();
      };
      pump();
    };
    const patch = await request(
      server.base,
      'PATCH',
      post.headers.location,
      { ...authHeaders(server), 'Content-Type': 'application/octet-stream', 'Content-Length': String(LARGE_MIB * MiB) },
      body,
    );
    expect(patch, 202, 'large PATCH');
    const loc = new URL(patch.headers.location, server.base);
    loc.searchParams.set('digest', largeDigest);
    expect(
      await request(server.base, 'PUT', loc.pathname + loc.search, { ...authHeaders(server), 'Content-Length': '0' }),
      201,
      'large PUT',
    );
    const mibps = LARGE_MIB / (Number(process.hrtime.bigint() - started) / 1e9);
    const rss = peakRssMiB(server.pid);
    log(`  ${LARGE_MIB} MiB push on a fresh ${server.label}: ${mibps.toFixed(0)} MiB/s, peak RSS ${rss.toFixed(0)} MiB`);
    return { largeMibps: mibps, largeRss: rss };
  } catch (e) {
    log(`${server.label} large push failed: ${e.message}`);
    return { largeError: e.message };
  } finally {
    await server.stop();
    settleDisk(server);
  }
}

// ---------------------------------------------------------------------------------------------
// Machine: single-core SHA-256 speed (openssl and Node), load average

function machine() {
  let openssl = NaN;
  try {
    const out = execFileSync('openssl', ['speed', '-evp', 'sha256', '-seconds', '2', '-bytes', '16384'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const m = /sha256\s+([\d.]+)k/.exec(out);
    if (m) openssl = (Number(m[1]) * 1000) / MiB;
  } catch {
    // no openssl: the row shows Node's figure only
  }
  const buf = randomBytes(MiB);
  const h = createHash('sha256');
  const t = process.hrtime.bigint();
  for (let i = 0; i < 512; i++) h.update(buf);
  h.digest();
  const nodeRate = 512 / (Number(process.hrtime.bigint() - t) / 1e9);
  return { openssl, node: nodeRate, cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '?', load: os.loadavg() };
}

// ---------------------------------------------------------------------------------------------
// Table

const ROWS = [
  ['pushMono', `monolithic push, ${BLOB_MIB} MiB blob (MiB/s)`, 'higher', 0],
  ['pushChunked', `chunked push, ${CHUNK_MIB} MiB PATCHes (MiB/s)`, 'higher', 0],
  ['getOne', `blob GET ${BLOB_MIB} MiB, one stream (MiB/s)`, 'higher', 0],
  ['get4Rps', '4 MiB blob GET, 32 concurrent (req/s)', 'higher', 0],
  ['get4Mibps', '4 MiB blob GET, 32 concurrent (MiB/s)', 'higher', 0],
  ['manifestRps', 'manifest GET by tag, 64 concurrent (req/s)', 'higher', 0],
  ['manifestP50', 'manifest GET p50 (ms, lower is better)', 'lower', 2],
  ['manifestP99', 'manifest GET p99 (ms, lower is better)', 'lower', 2],
  ['proxyGetOne', `cached pull through a proxy prefix: blob GET ${BLOB_MIB} MiB, one stream (MiB/s)`, 'higher', 0],
  ['proxyGetRatio', 'cached ÷ local pull, blob GET one stream (goal ≥ 0.90)', 'higher', 2],
  ['proxyManifestRps', 'cached pull through a proxy prefix: manifest GET by tag, 64 concurrent (req/s)', 'higher', 0],
  ['proxyManifestRatio', 'cached ÷ local pull, manifest GET by tag (goal ≥ 0.90)', 'higher', 2],
  ['headRps', 'blob HEAD, 64 concurrent (req/s)', 'higher', 0],
  ['tagsListRps', `tags list, ${TAGS} tags, 32 concurrent (req/s)`, 'higher', 0],
  ['tagPushSeconds', `push ${TAGS} tags one by one (s, lower is better)`, 'lower', 2],
  ['rss', 'peak RSS over the run (MiB, lower is better)', 'lower', 0],
  ['largeMibps', `${LARGE_MIB} MiB push, one PATCH (MiB/s)`, 'higher', 0],
  ['largeRss', `peak RSS, ${LARGE_MIB} MiB push on a fresh server (MiB, lower is better)`, 'lower', 0],
];

/** Rows of the `fresh` phase: per chunk size and blob size, MiB/s and the first/middle/last PATCH latency. */
function freshRows() {
  const rows = [];
  if (!PHASES.has('fresh')) return rows;
  for (const c of FRESH_CHUNKS_MIB) {
    for (const s of FRESH_MIB) {
      const k = freshKey(c, s);
      const what = `chunked push ${s} MiB, ${c} MiB PATCHes, new connection each (curl)`;
      rows.push([`${k}.mibps`, `${what} (MiB/s)`, 'higher', 0]);
      for (const [f, at] of [
        ['firstMs', 'first'],
        ['middleMs', 'middle'],
        ['lastMs', 'last'],
      ])
        rows.push([`${k}.${f}`, `${what}: ${at} PATCH (ms, lower is better)`, 'lower', 0]);
    }
  }
  for (const [mode, what] of CURL_MODES) rows.push([`curlMono_${mode}`, `monolithic push ${BLOB_MIB} MiB, ${what} (MiB/s)`, 'higher', 0]);
  return rows;
}

const CHURN_ROWS = [
  ['get4ChurnRps', '4 MiB blob GET, 32 concurrent, no keep-alive (req/s)', 'higher', 0],
  ['manifestChurnRps', 'manifest GET by tag, 64 concurrent, no keep-alive (req/s)', 'higher', 0],
  ['manifestChurnP99', 'manifest GET p99, no keep-alive (ms, lower is better)', 'lower', 2],
  ['headChurnRps', 'blob HEAD, 64 concurrent, no keep-alive (req/s)', 'higher', 0],
  ['tagsListChurnRps', `tags list, ${TAGS} tags, 32 concurrent, no keep-alive (req/s)`, 'higher', 0],
];

/** A row's value: a key, or `key.field` for the fresh-phase objects. */
function valueOf(result, key) {
  return key.split('.').reduce((v, k) => (v === undefined ? undefined : v[k]), result);
}

/**
 * Issue #18's goals for Berth on PostgreSQL, per row: within 1.5× of Berth on SQLite (so PG÷SQLite, oriented
 * like every ratio here, ≥ 1/1.5) and still ahead of Distribution 3 (PG÷D3 ≥ 1).
 */
const PG_GOALS = { manifestRps: true, manifestP99: true, tagPushSeconds: true };
const PG_VS_SQLITE_GOAL = 1 / 1.5;
const PG_VS_D3_GOAL = 1;
/** Issue #16's goal: push throughput and manifest PUT time with three slow hooks within 5% of none. */
const HOOKS_GOALS = { pushMono: true, pushChunked: true, tagPushSeconds: true };
const HOOKS_GOAL = 0.95;
/** Issue #15's goal: manifest GETs with download counting on within 5% of counting off. */
const COUNTING_GOALS = { manifestRps: true, manifestChurnRps: true };
const COUNTING_GOAL = 0.95;

function table(results, m) {
  const cols = ['berth', 'berth-nocount', 'berth-1', 'berth-auth', 'berth-hooks', 'berth-pg', 'd2', 'd3'].filter((k) => results[k]);
  const fmt = (v, d) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(d));
  // Ratio written so that ≥ 1.0 always means Berth is at least as good.
  const ratio = (b, o, dir) => (b === undefined || o === undefined || !b || !o ? '–' : (dir === 'higher' ? b / o : o / b).toFixed(2));
  const head = ['figure', ...cols.map((k) => results[k].label)];
  const hasD2 = results.berth && results.d2;
  const hasD3 = results.berth && results.d3;
  if (hasD2) head.push('Berth/D2.8.2');
  if (hasD3) head.push('Berth/D3');
  const hasPgSqlite = results['berth-pg'] && results.berth;
  const hasPgD3 = results['berth-pg'] && results.d3;
  if (hasPgSqlite) head.push('PG/SQLite');
  if (hasPgD3) head.push('PG/D3');
  const hasCounting = results.berth && results['berth-nocount'];
  if (hasCounting) head.push('counting on/off');
  const hasHooks = results['berth-auth'] && results['berth-hooks'];
  if (hasHooks) head.push('3 slow hooks/none');
  // A goal row's ratio carries ✓ or ✗; the others are for information.
  const marked = (goals) => (key, text, threshold) =>
    !goals[key] || text === '–' ? text : `${text} ${Number(text) >= threshold ? '✓' : '✗'}`;
  const goal = marked(PG_GOALS);
  const countingGoal = marked(COUNTING_GOALS);
  const hooksGoal = marked(HOOKS_GOALS);
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  const rows = [...(PHASES.has('standard') ? ROWS : []), ...(PHASES.has('standard') && CHURN ? CHURN_ROWS : []), ...freshRows()];
  for (const [key, name, dir, d] of rows) {
    const v = (k) => valueOf(results[k], key);
    if (cols.every((k) => v(k) === undefined)) continue; // a step BENCH_STEPS left out
    const row = [name, ...cols.map((k) => fmt(v(k), d))];
    if (hasD2) row.push(ratio(v('berth'), v('d2'), dir));
    if (hasD3) row.push(ratio(v('berth'), v('d3'), dir));
    if (hasPgSqlite) row.push(goal(key, ratio(v('berth-pg'), v('berth'), dir), PG_VS_SQLITE_GOAL));
    if (hasPgD3) row.push(goal(key, ratio(v('berth-pg'), v('d3'), dir), PG_VS_D3_GOAL));
    if (hasCounting) row.push(countingGoal(key, ratio(v('berth'), v('berth-nocount'), dir), COUNTING_GOAL));
    if (hasHooks) row.push(hooksGoal(key, ratio(v('berth-hooks'), v('berth-auth'), dir), HOOKS_GOAL));
    lines.push(`| ${row.join(' | ')} |`);
  }
  const notes = [
    `Ratios are oriented so that ≥ 1.00 means Berth is at least as good: throughput ratios are Berth ÷ Distribution; for rows marked "lower is better" (latency, time, RSS) they are Distribution ÷ Berth.`,
    ...(hasPgSqlite || hasPgD3
      ? [
          `Berth on PostgreSQL: as Berth, with DATABASE_URL on a PostgreSQL on the same machine (run.sh starts one: conformance/services.sh pg_start, fsync and synchronous_commit off, as Berth's SQLite file (WAL, synchronous=NORMAL) does not fsync each commit either; or BENCH_DATABASE_URL), a fresh database per server start; PostgreSQL's processes compete for the same 2 cores but are not in its RSS rows. PG/SQLite is Berth on PostgreSQL against Berth (SQLite), PG/D3 against Distribution 3, oriented the same way; ✓/✗ on issue #18's goals: manifest GET req/s and p99 and the 1000-tag push within 1.5× of SQLite (≥ ${PG_VS_SQLITE_GOAL.toFixed(2)}) and ahead of Distribution 3 (≥ 1.00).`,
        ]
      : []),
    ...(hasCounting
      ? [
          `Counting on/off is Berth (download counts on, the default) against the same Berth with BERTH_DOWNLOAD_COUNTS=false, oriented the same way; ✓/✗ on issue #15's goal: manifest GET throughput with counting within 5% (≥ ${COUNTING_GOAL.toFixed(2)}).`,
        ]
      : []),
    ...(hasHooks
      ? [
          `3 slow hooks/none is Berth+auth with three instance-wide webhooks (every event) whose receiver answers each delivery after ${SLOW_HOOK_MS / 1000} s, against Berth+auth with none, oriented the same way; ✓/✗ on issue #16's goal: push throughput and the ${TAGS} manifest PUTs within 5% (≥ ${HOOKS_GOAL.toFixed(2)}). The receiver got ${results['berth-hooks'].hookDeliveries ?? '?'} deliveries during that server's run (the rest were still queued when it stopped).`,
        ]
      : []),
    `Machine: ${m.cpus} × ${m.model}; single-core SHA-256: openssl ${fmt(m.openssl, 0)} MiB/s, Node crypto ${fmt(m.node, 0)} MiB/s; load average at start ${m.load.map((x) => x.toFixed(2)).join(' ')}, at end ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}.`,
    `Run ${new Date().toISOString()}; ${ROUNDS} rounds per push/one-stream figure (median), ${SECONDS} s per wrk/hey run after a ${WARMUP_SECONDS} s warm-up run that is not counted (wrk 2 threads), loopback only; servers run one at a time.`,
    `Berth runs with its default BERTH_WORKERS=auto: ${Math.min(Math.max(os.availableParallelism(), 1), 8)} worker processes and a cluster primary here; its RSS rows are the sum over all of them (VmHWM of each), Distribution's are of its one process.`,
  ];
  if (PHASES.has('fresh'))
    notes.push(
      `"New connection each (curl)": every PATCH is its own curl process (\`--data-binary @file\`), so consecutive chunks reach either of Berth's workers (each accepts its own connections: about a third of the chunks land on another worker than the one before); a PATCH's latency is curl's time_total, and first/middle/last are each the median of 3 neighbouring PATCHes. MiB/s is over the whole push, curl start-ups included. Monolithic curl rows: POST, then one PUT of a ${BLOB_MIB} MiB file with ?digest=, timed by curl, each after a \`sync\` (untimed) so that it writes into the page cache, not behind the writeback of the rows before.`,
    );
  for (const k of cols) {
    if (results[k].error) notes.push(`${results[k].label} failed: ${results[k].error}`);
    if (results[k].freshError) notes.push(`${results[k].label} fresh-connection pushes failed: ${results[k].freshError}`);
  }
  return `${lines.join('\n')}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------

spawnSync('sync', { timeout: 120_000 });
const m = machine();
log(
  `single-core SHA-256: openssl ${m.openssl.toFixed(0)} MiB/s, Node ${m.node.toFixed(0)} MiB/s; load ${m.load.map((x) => x.toFixed(2)).join(' ')}`,
);
const results = {};
for (const key of wanted) {
  if (!SERVERS[key]) throw new Error(`unknown server ${key}; one of ${Object.keys(SERVERS).join(', ')}`);
  results[key] = await runWorkload(key);
}
const text = table(results, m);
console.log(text);
mkdirSync(path.dirname(OUT), { recursive: true });
writeFileSync(OUT, `# make bench — ${new Date().toISOString()}\n\n${text}`);
log(`table written to ${path.relative(process.cwd(), OUT)}`);
if (KEEP) log(`data and logs kept in ${work}`);
agent.destroy();
process.exit(Object.values(results).some((r) => r.error || r.freshError) ? 1 : 0);
