import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { prepareTestConfig, type TestSetup } from './support/registry';
import { HookReceiver } from './webhooks/support/hook-receiver';

/**
 * `berth serve` as a Node cluster (BERTH_WORKERS > 1), run for real from
 * dist/cli.js: the primary forks the workers, which share the listening
 * socket (here handed out round robin by the primary), one SQLite file and the blob
 * directory; /metrics is summed across workers through the primary; a dead
 * worker is replaced (all of them, if they die at once); SIGTERM stops
 * everything gracefully; a lost primary leaves no orphans; a worker that
 * cannot start stops the whole cluster.
 *
 * Every request here uses a new connection (`agent: false`), so consecutive
 * requests go to alternating workers; where it matters, the test finds out
 * which worker holds the server side of a connection (/proc/net/tcp inode
 * against the workers' fds) before sending anything on it.
 *
 * The machine running this may be loaded (2 shared cores): every wait is for
 * a condition, bounded by WAIT_MS only so that a broken cluster fails rather
 * than hangs, never a guess at how long something takes.
 */
/** The bound on any one wait for a condition; generous, as it is reached only when the behaviour is broken. */
const WAIT_MS = 60_000;
// A test makes a few bounded waits in a row.
jest.setTimeout(4 * WAIT_MS);

const REPO_ROOT = path.resolve(__dirname, '..');
/** BERTH_E2E_CLI, as for the e2e suites, runs another build. */
const CLI = process.env.BERTH_E2E_CLI ?? path.join(REPO_ROOT, 'dist', 'cli.js');
const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

// ---------------------------------------------------------------------------------------------
// HTTP, one new connection per request

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The worker that held the server side of the connection (only when `among` was given). */
  worker?: number;
}

interface SendOptions {
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** Before sending anything, find which of these processes the connection was handed to. */
  among?: number[];
}

function send(base: string, method: string, p: string, body?: Buffer, options: SendOptions = {}): Promise<Answer> {
  const timeoutMs = options.timeoutMs ?? WAIT_MS;
  return new Promise((resolve, reject) => {
    let worker: number | undefined;
    const req = http.request(
      new URL(p, base),
      { method, agent: false, timeout: timeoutMs, headers: { 'Content-Length': String(body?.length ?? 0), ...options.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), worker }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${p}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    const among = options.among;
    if (!among) {
      req.end(body);
      return;
    }
    // Nothing is written before end(): find the holder of the accepted connection first.
    req.once('socket', (socket) => {
      socket.once('connect', () => {
        connectionHolder(Number(new URL(base).port), socket.localPort!, among).then(
          (pid) => {
            worker = pid;
            req.end(body);
          },
          (err: Error) => req.destroy(err),
        );
      });
    });
  });
}

/**
 * Which of `pids` holds the server side of the loopback connection from `clientPort`
 * to `serverPort`: its inode from /proc/net/tcp, matched against each process's fds.
 * The primary accepts the connection and passes it to a worker, so this polls (WAIT_MS at most).
 */
async function connectionHolder(serverPort: number, clientPort: number, pids: number[]): Promise<number> {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    let inode: string | undefined;
    for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1]?.endsWith(`:${hex(serverPort)}`) && f[2]?.endsWith(`:${hex(clientPort)}`) && f[9] !== '0') inode = f[9];
    }
    if (inode !== undefined) {
      for (const pid of pids) {
        let fds: string[];
        try {
          fds = fs.readdirSync(`/proc/${pid}/fd`);
        } catch {
          continue;
        }
        for (const fd of fds) {
          try {
            if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return pid;
          } catch {
            /* closed meanwhile */
          }
        }
      }
    }
    if (Date.now() >= deadline)
      throw new Error(`no process of ${pids.join(', ')} holds the connection from port ${clientPort} (inode ${inode ?? 'not found'})`);
    await sleep(5);
  }
}

const basic = (user: string, password: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

/** The value of one sample in the Prometheus text format, matched on all of its labels; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) got[l[1]!] = l[2]!;
    const keys = Object.keys(labels);
    if (Object.keys(got).length === keys.length && keys.every((k) => got[k] === labels[k])) return Number(m[3]);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Processes, through /proc

/** pid → [state, ppid] from /proc/<pid>/stat; undefined when the process is gone. */
function stat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** Alive: it exists and is not a zombie (an orphan's zombie may wait for a reaper that never comes). */
const alive = (pid: number) => {
  const s = stat(pid);
  return s !== undefined && s.state !== 'Z' && s.state !== 'X';
};

function allPids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** The live children of `pid` (by ppid in /proc/<child>/stat). */
function childrenOf(pid: number): number[] {
  return allPids()
    .filter((c) => stat(c)?.ppid === pid && alive(c))
    .sort((a, b) => a - b);
}

/** The nice value of each thread of `pid` (field 19 of /proc/<pid>/task/<tid>/stat). */
function niceOfThreads(pid: number): number[] {
  return fs.readdirSync(`/proc/${pid}/task`).map((tid) => {
    const s = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

/** Whether `pid` is a cluster's background worker (the role its primary forked it with, in its environment). */
function isBackground(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes('BERTH_CLUSTER_ROLE=background');
  } catch {
    return false;
  }
}

/** Live Berth processes of one test: dist/cli.js with this test's own BERTH_DATA in their environment (workers inherit it). */
function berthProcessesFor(dataDir: string): number[] {
  const marker = `BERTH_DATA=${dataDir}`;
  return allPids().filter((pid) => {
    if (pid === process.pid || !alive(pid)) return false;
    try {
      if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(CLI)) return false;
      return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(marker);
    } catch {
      return false;
    }
  });
}

/** Polls `check` every `everyMs` until it returns true or `ms` pass; returns whether it did. */
async function waitFor(check: () => boolean | Promise<boolean>, ms: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// A Berth cluster, one per test

/** This process's environment without Berth's configuration (nor the Redis/S3 the spec's global setup exports). */
function inheritedEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(BERTH_|REDIS_|S3_|DATABASE_URL$)/.test(k)));
}

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

class Cluster {
  readonly child: ChildProcess;
  output = '';
  /** Whether the primary's hash follower hashes uploads that move between workers (staging on the filesystem). */
  followsHashes = true;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exit?: { code: number | null; signal: NodeJS.Signals | null };

  constructor(
    readonly url: string,
    readonly dataDir: string,
    env: Record<string, string>,
  ) {
    this.child = spawn(process.execPath, [CLI, 'serve'], {
      cwd: REPO_ROOT,
      env: { ...inheritedEnv(), BERTH_ADDR: new URL(url).host, BERTH_DATA: dataDir, BERTH_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (c: Buffer) => (this.output += c.toString('utf8')));
    this.child.stderr!.on('data', (c: Buffer) => (this.output += c.toString('utf8')));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** The JSON log lines (stdout and stderr mixed; other lines are skipped). */
  get lines(): LogLine[] {
    const out: LogLine[] = [];
    for (const l of this.output.split('\n')) {
      if (!l.startsWith('{')) continue;
      try {
        out.push(JSON.parse(l) as LogLine);
      } catch {
        /* a line still being written */
      }
    }
    return out;
  }

  logged(msg: string): LogLine[] {
    return this.lines.filter((l) => l.msg === msg);
  }

  /** The serving workers. */
  get workers(): number[] {
    return childrenOf(this.pid).filter((pid) => !isBackground(pid));
  }

  /** The background worker, once forked (after the serving workers listen). */
  get background(): number | undefined {
    return childrenOf(this.pid).find(isBackground);
  }

  describe(): string {
    return `primary ${this.pid} (${this.exit ? `exited ${JSON.stringify(this.exit)}` : 'running'}); output:\n${this.output.slice(-4000)}`;
  }

  /** Waits for the primary's 'berth is serving'; throws (with the output) if it exits or takes too long. */
  async ready(): Promise<void> {
    const ok = await waitFor(() => !this.running || this.logged('berth is serving').length > 0, WAIT_MS);
    if (!ok || !this.running) throw new Error(`the cluster did not start within ${WAIT_MS} ms: ${this.describe()}`);
  }

  /** Waits up to `ms` for the primary to exit. */
  async waitExit(ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([this.exited, new Promise<undefined>((res) => (timer = setTimeout(() => res(undefined), ms)))]);
    clearTimeout(timer);
    return r;
  }
}

describe('berth serve as a cluster (BERTH_WORKERS > 1)', () => {
  let clusters: Cluster[];
  let setups: TestSetup[];
  let servers: net.Server[];

  beforeAll(() => {
    if (!fs.existsSync(CLI))
      throw new Error(`${CLI} does not exist: run \`npm run build\` first${process.env.BERTH_E2E_CLI ? ' (or fix BERTH_E2E_CLI)' : ''}`);
  });

  beforeEach(() => {
    clusters = [];
    setups = [];
    servers = [];
  });

  afterEach(async () => {
    for (const c of clusters) {
      // The primary first, so that it forks no more; then workers left behind (the test failed
      // midway, or the behaviour under test broke): by PID, and only processes that run
      // dist/cli.js with this test's own data directory.
      if (c.running) c.child.kill('SIGKILL');
      await c.waitExit(WAIT_MS);
      for (const pid of berthProcessesFor(c.dataDir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone meanwhile */
        }
      }
    }
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    for (const setup of setups) await setup.dispose();
  });

  /** A cluster on a fresh data dir and free port, started and serving. */
  async function start(env: Record<string, string> = {}): Promise<Cluster> {
    let last: unknown;
    // A port found free can be taken before the cluster binds it: then try another one.
    for (let attempt = 0; attempt < 3; attempt++) {
      const c = await launch(await freePort(), env);
      try {
        await c.ready();
        return c;
      } catch (err) {
        last = err;
        if (!/EADDRINUSE/.test(c.output)) break;
        c.child.kill('SIGKILL');
        await c.waitExit(WAIT_MS);
      }
    }
    throw last;
  }

  /** A cluster on a fresh data dir (and place on the jest project's backend) and the given port, not waited for. */
  async function launch(port: number, env: Record<string, string> = {}): Promise<Cluster> {
    const setup = await prepareTestConfig({}, 'berth-cluster-data-');
    setups.push(setup);
    // Round robin, not Berth's default: these cases need consecutive connections to alternate between the workers (a
    // chunk on the worker that did not stage the one before), which the workers' own accepts do only about a third of
    // the time.
    const c = new Cluster(`http://127.0.0.1:${port}`, setup.dataDir, {
      ...setup.env,
      BERTH_WORKERS: '2',
      BERTH_AUTH: 'none',
      NODE_CLUSTER_SCHED_POLICY: 'rr',
      ...env,
    });
    // On the replicas' backend (Redis and S3) a resumable hash travels with each session instead.
    c.followsHashes = !setup.config.redis && !setup.config.s3;
    clusters.push(c);
    return c;
  }

  it('forks two workers that together take a blob pushed in chunks, each request on a new connection, and serve it back', async () => {
    const c = await start();
    const workers = c.workers;
    expect(workers).toHaveLength(2);
    const among = workers;

    const base = await send(c.url, 'GET', '/v2/', undefined, { among });
    expect(base.status).toBe(200);
    expect(base.headers['docker-distribution-api-version']).toBe('registry/2.0');

    const data = randomBytes(5 * MiB + 12_345);
    const digest = sha256(data);

    const started = await send(c.url, 'POST', '/v2/cluster/chunks/blobs/uploads/', undefined, { among });
    expect(started.status).toBe(202);
    let location = String(started.headers.location);
    let offset = 0;
    const patchedBy: number[] = [];
    while (offset < data.length) {
      const chunk = data.subarray(offset, Math.min(offset + MiB, data.length));
      const answer = await send(c.url, 'PATCH', location, chunk, {
        among,
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${offset + chunk.length - 1}` },
      });
      const n = patchedBy.length;
      expect({ patch: n, status: answer.status, body: answer.body.toString('utf8') }).toEqual({ patch: n, status: 202, body: '' });
      offset += chunk.length;
      patchedBy.push(answer.worker!);
      expect(answer.headers.range).toBe(`0-${offset - 1}`);
      location = String(answer.headers.location ?? location);
    }
    expect(patchedBy).toHaveLength(6);
    // Chunks of the one upload went to both workers (new connections alternate between them).
    expect(new Set(patchedBy)).toEqual(new Set(workers));

    const put = new URL(location, c.url);
    put.searchParams.set('digest', digest);
    const committed = await send(c.url, 'PUT', put.pathname + put.search, undefined, { among });
    expect(committed.status).toBe(201);
    expect(committed.headers['docker-content-digest']).toBe(digest);

    // Fetched by both workers, byte for byte.
    const fetchedBy = new Set<number>();
    for (let i = 0; i < 4; i++) {
      const blob = await send(c.url, 'GET', `/v2/cluster/chunks/blobs/${digest}`, undefined, { among });
      expect(blob.status).toBe(200);
      expect(blob.body.length).toBe(data.length);
      expect(sha256(blob.body)).toBe(digest);
      fetchedBy.add(blob.worker!);
    }
    expect(fetchedBy).toEqual(new Set(workers));
    expect(c.workers).toEqual(workers);
  });

  it('takes concurrent pushes through both workers: one tag ends on one intact manifest; a push racing a delete of its blob never leaves the manifest without it', async () => {
    const c = await start();
    expect(c.workers).toHaveLength(2);
    const pushBlob = async (name: string, content: Buffer) => {
      const answer = await send(c.url, 'POST', `/v2/${name}/blobs/uploads/?digest=${sha256(content)}`, content, {
        headers: { 'Content-Type': 'application/octet-stream' },
      });
      expect(answer.status).toBe(201);
      return { digest: sha256(content), size: content.length };
    };
    const manifest = (config: { digest: string; size: number }, layer: { digest: string; size: number }, seed: string) =>
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
          annotations: { seed },
        }),
      );
    const putManifest = (name: string, reference: string, body: Buffer) =>
      send(c.url, 'PUT', `/v2/${name}/manifests/${reference}`, body, {
        headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
      });
    const code = (a: Answer) =>
      a.status < 300 ? '' : ((JSON.parse(a.body.toString('utf8')) as { errors: Array<{ code: string }> }).errors[0]?.code ?? '?');

    // Many clients, one tag; new connections alternate between the two processes.
    const config = await pushBlob('cluster/race', Buffer.from('{"architecture":"amd64","os":"linux"}'));
    const layer = await pushBlob('cluster/race', randomBytes(1024));
    const bodies = Array.from({ length: 24 }, (_, i) => manifest(config, layer, `client ${i}`));
    const puts = await Promise.all(bodies.map((b) => putManifest('cluster/race', 'latest', b)));
    expect(puts.map((a) => a.status)).toEqual(bodies.map(() => 201));
    const tagged = await send(c.url, 'GET', '/v2/cluster/race/manifests/latest', undefined, {
      headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(tagged.status).toBe(200);
    expect(bodies.map(sha256)).toContain(sha256(tagged.body));
    expect(tagged.headers['docker-content-digest']).toBe(sha256(tagged.body));

    // A push racing a delete of the blob it references, in both orders of sending.
    for (let round = 0; round < 20; round++) {
      const own = await pushBlob('cluster/race', randomBytes(512));
      const body = manifest(config, own, `round ${round}`);
      const put = () => putManifest('cluster/race', sha256(body), body);
      const del = () => send(c.url, 'DELETE', `/v2/cluster/race/blobs/${own.digest}`);
      let pushed: Answer;
      let deleted: Answer;
      if (round % 2 === 0) [pushed, deleted] = await Promise.all([put(), del()]);
      else [deleted, pushed] = await Promise.all([del(), put()]);
      const outcome = `push ${pushed.status} ${code(pushed)} / delete ${deleted.status} ${code(deleted)}`;
      expect(['push 201  / delete 409 CONFLICT', 'push 400 MANIFEST_BLOB_UNKNOWN / delete 202 ']).toContain(outcome);
      const stored = await send(c.url, 'GET', `/v2/cluster/race/manifests/${sha256(body)}`, undefined, {
        headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      const blob = await send(c.url, 'GET', `/v2/cluster/race/blobs/${own.digest}`);
      expect({ round, manifest: stored.status, blob: blob.status }).toEqual({
        round,
        manifest: stored.status,
        blob: stored.status === 200 ? 200 : 404,
      });
    }
  });

  it('continues an upload on either worker, its staged bytes hashed once by the follower (berth_upload_rehashed_bytes_total, …_followed_…)', async () => {
    const c = await start();
    const workers = c.workers;
    expect(workers).toHaveLength(2);
    const among = workers;
    const CHUNK = 256 * 1024;
    const data = randomBytes(24 * CHUNK + 999);
    const digest = sha256(data);

    const started = await send(c.url, 'POST', '/v2/cluster/rehash/blobs/uploads/', undefined, { among });
    expect(started.status).toBe(202);
    let location = String(started.headers.location);
    const patchedBy: number[] = [];
    for (let offset = 0; offset < data.length; offset += CHUNK) {
      const chunk = data.subarray(offset, Math.min(offset + CHUNK, data.length));
      const answer = await send(c.url, 'PATCH', location, chunk, {
        among,
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${offset + chunk.length - 1}` },
      });
      expect({ offset, status: answer.status }).toEqual({ offset, status: 202 });
      patchedBy.push(answer.worker!);
      location = String(answer.headers.location ?? location);
    }
    // The case under test: a chunk on the worker that did not stage the one before it, many times over.
    const handovers = patchedBy.filter((w, i) => i > 0 && w !== patchedBy[i - 1]).length;
    expect(handovers).toBeGreaterThanOrEqual(8);

    const put = new URL(location, c.url);
    put.searchParams.set('digest', digest);
    const committed = await send(c.url, 'PUT', put.pathname + put.search, undefined, { among });
    expect(committed.status).toBe(201);
    const blob = await send(c.url, 'GET', `/v2/cluster/rehash/blobs/${digest}`);
    expect(sha256(blob.body)).toBe(digest);

    // Summed over both workers by the relay: no worker rebuilt a digest by reading staged bytes back. On the
    // filesystem the primary's follower hashed them, reading each byte once (a follower re-reading from the start
    // at every chunk would have read ~12 times the upload); with Redis and S3 the saved hash state carried them.
    const metrics = await send(c.url, 'GET', '/metrics');
    const text = metrics.body.toString('utf8');
    expect(sample(text, 'berth_upload_rehashed_bytes_total', {})).toBe(0);
    expect(sample(text, 'berth_upload_followed_bytes_total', {})).toBe(c.followsHashes ? data.length : 0);
  });

  it("by default lets each worker accept its own connections: both serve, not in the primary's strict turns", async () => {
    // Empty: Node's own default (round robin), which Berth replaces unless the variable says `rr`.
    const c = await start({ NODE_CLUSTER_SCHED_POLICY: '' });
    const workers = c.workers;
    expect(workers).toHaveLength(2);
    const servedBy: number[] = [];
    for (let i = 0; i < 60; i++) {
      const answer = await send(c.url, 'GET', '/v2/', undefined, { among: workers });
      expect(answer.status).toBe(200);
      servedBy.push(answer.worker!);
    }
    // Round robin alternates every time (59 switches); the workers' own accepts went about 80/20 here, switching a
    // third of the time, so 60 connections on one worker or in strict turns would each be a one-in-a-million draw.
    const switches = servedBy.filter((w, i) => i > 0 && w !== servedBy[i - 1]).length;
    expect(new Set(servedBy)).toEqual(new Set(workers));
    expect(switches).toBeLessThan(59);
  });

  it('answers /metrics with the sum over all workers', async () => {
    const c = await start();
    const workers = c.workers;
    expect(workers).toHaveLength(2);
    const N = 40;
    const perWorker = new Map<number, number>();
    for (let i = 0; i < N; i++) {
      const answer = await send(c.url, 'GET', '/v2/', undefined, { among: workers });
      expect(answer.status).toBe(200);
      perWorker.set(answer.worker!, (perWorker.get(answer.worker!) ?? 0) + 1);
    }
    // Each worker served only part of them, so its own count is not N.
    expect(perWorker.size).toBe(2);
    for (const n of perWorker.values()) expect(n).toBeLessThan(N);

    // Once from each worker: each asks the primary for the sum.
    const scrapedBy = new Set<number>();
    for (let scrape = 0; scrape < 2; scrape++) {
      const metrics = await send(c.url, 'GET', '/metrics', undefined, { among: workers });
      expect(metrics.status).toBe(200);
      scrapedBy.add(metrics.worker!);
      const text = metrics.body.toString('utf8');
      expect(sample(text, 'berth_http_requests_total', { route: 'base', method: 'GET', status: '200' })).toBe(N);
      // The scrapes answered before this one (a request is counted once its response is done).
      expect(sample(text, 'berth_http_requests_total', { route: 'metrics', method: 'GET', status: '200' })).toBe(
        scrape === 0 ? undefined : scrape,
      );
    }
    expect(scrapedBy).toEqual(new Set(workers));
  });

  it('replaces a worker killed with SIGKILL and keeps serving', async () => {
    const c = await start();
    const before = c.workers;
    expect(before).toHaveLength(2);
    const [victim, survivor] = before as [number, number];

    process.kill(victim, 'SIGKILL');
    // Requests throughout the restart, until the replacement is there (the primary forks it
    // 1 s after the death). A connection the primary handed to the worker as it died is never
    // answered (Node's cluster does not take it back): that is excused only for requests begun
    // before the primary had logged the death, and only those get a short timeout; every
    // request begun after it must be answered, however slowly.
    const noticed = () => c.logged('a worker died; starting another').length > 0;
    const failures: Array<{ afterNotice: boolean; error: string }> = [];
    let answeredAfterNotice = 0;
    let replaced: number[] = [];
    const back = await waitFor(
      async () => {
        const afterNotice = noticed();
        try {
          const answer = await send(c.url, 'GET', '/v2/', undefined, { timeoutMs: afterNotice ? WAIT_MS : 2_000 });
          if (answer.status !== 200) failures.push({ afterNotice, error: `status ${answer.status}` });
          else if (afterNotice) answeredAfterNotice++;
        } catch (err) {
          failures.push({ afterNotice, error: (err as Error).message });
        }
        const now = c.workers;
        if (afterNotice && answeredAfterNotice > 0 && now.length === 2 && !now.includes(victim)) replaced = now;
        return replaced.length === 2;
      },
      WAIT_MS,
      20,
    );
    expect({ back, replaced, output: back ? '' : c.describe() }).toEqual({
      back: true,
      replaced: expect.arrayContaining([survivor]),
      output: '',
    });
    const fresh = replaced.find((p) => p !== survivor)!;
    expect(before).not.toContain(fresh);
    expect(failures.filter((f) => f.afterNotice)).toEqual([]);

    // The new worker takes connections too (once it listens), and answers them.
    const servedBy = new Set<number>();
    const until = Date.now() + WAIT_MS;
    while (servedBy.size < 2 && Date.now() < until) {
      const answer = await send(c.url, 'GET', '/v2/', undefined, { among: replaced });
      expect(answer.status).toBe(200);
      servedBy.add(answer.worker!);
    }
    expect(servedBy).toEqual(new Set(replaced));

    const died = c.logged('a worker died; starting another');
    expect(died).toHaveLength(1);
    expect(died[0]).toMatchObject({ worker: victim, signal: 'SIGKILL' });
    expect(c.running).toBe(true);
  });

  it('replaces its background worker when it is killed, without touching the serving workers', async () => {
    const c = await start();
    expect(await waitFor(() => c.logged('background worker running').length === 1, WAIT_MS)).toBe(true);
    const serving = c.workers;
    const victim = c.background!;
    process.kill(victim, 'SIGKILL');
    const back = await waitFor(() => c.logged('background worker running').length === 2, WAIT_MS);
    expect({ back, output: back ? '' : c.describe() }).toEqual({ back: true, output: '' });
    expect(c.background).not.toBe(victim);
    expect(c.logged('a worker died; starting another')).toEqual([expect.objectContaining({ worker: victim, role: 'background' })]);
    // It runs below the serving workers' priority, every thread of it (nice 10, or this runner's if that is lower
    // already); they keep the priority they were started with.
    const own = os.getPriority();
    expect(new Set(niceOfThreads(c.background!))).toEqual(new Set([Math.max(10, own)]));
    for (const worker of serving) expect(new Set(niceOfThreads(worker))).toEqual(new Set([own]));
    expect(c.workers).toEqual(serving);
    expect((await send(c.url, 'GET', '/v2/')).status).toBe(200);
  });

  it('replaces every worker when all of them are killed at once, instead of exiting', async () => {
    const c = await start();
    const before = c.workers;
    expect(before).toHaveLength(2);

    for (const w of before) process.kill(w, 'SIGKILL');
    let replaced: number[] = [];
    const back = await waitFor(() => {
      replaced = c.workers;
      return !c.running || (replaced.length === 2 && replaced.every((w) => !before.includes(w)));
    }, WAIT_MS);
    expect({ back, running: c.running, replaced: replaced.length, output: c.running ? '' : c.describe() }).toEqual({
      back: true,
      running: true,
      replaced: 2,
      output: '',
    });

    // Serving again once the new workers listen (a connection comes in only then).
    const servedBy = new Set<number>();
    const until = Date.now() + WAIT_MS;
    while (servedBy.size < 2 && Date.now() < until) {
      const answer = await send(c.url, 'GET', '/v2/', undefined, { among: replaced }).catch(() => undefined);
      if (answer) {
        expect(answer.status).toBe(200);
        servedBy.add(answer.worker!);
      } else await sleep(50);
    }
    expect(servedBy).toEqual(new Set(replaced));
    expect(c.logged('a worker died; starting another')).toHaveLength(2);
    expect(c.running).toBe(true);
  });

  it('stops on SIGTERM: the primary exits 0 and the workers are gone', async () => {
    const c = await start();
    expect(await waitFor(() => c.logged('background worker running').length > 0, WAIT_MS)).toBe(true);
    const workers = [...c.workers, c.background!];
    expect(workers).toHaveLength(3);
    expect((await send(c.url, 'GET', '/v2/')).status).toBe(200);

    c.child.kill('SIGTERM');
    const exit = await c.waitExit(WAIT_MS);
    expect({ exit, output: exit ? '' : c.describe() }).toEqual({ exit: { code: 0, signal: null }, output: '' });
    // Reaped by the primary before it exited: not even zombies are left.
    expect(workers.filter((w) => stat(w) !== undefined)).toEqual([]);
    expect(berthProcessesFor(c.dataDir)).toEqual([]);
    // The primary, two serving workers and the background worker.
    expect(c.logged('shutting down').length).toBe(4);
    expect(c.logged('a worker died; starting another')).toEqual([]);
    await expect(send(c.url, 'GET', '/v2/')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('leaves no orphans when the primary is killed with SIGKILL', async () => {
    const c = await start();
    expect(await waitFor(() => c.background !== undefined, WAIT_MS)).toBe(true);
    const workers = [...c.workers, c.background!];
    expect(workers).toHaveLength(3);

    c.child.kill('SIGKILL');
    expect(await c.waitExit(WAIT_MS)).toEqual({ code: null, signal: 'SIGKILL' });
    const gone = await waitFor(() => workers.every((w) => !alive(w)), WAIT_MS);
    expect({ gone, left: workers.filter(alive) }).toEqual({ gone: true, left: [] });
    expect(berthProcessesFor(c.dataDir)).toEqual([]);
  });

  it('runs the webhook relay and deliveries in its background worker, which the serving workers tell of each push', async () => {
    const password = 'cluster-hooks-admin-password-0123';
    const c = await start({ BERTH_AUTH: 'token', BERTH_ADMIN_PASSWORD: password, BERTH_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
    expect(await waitFor(() => c.logged('background worker running').length > 0, WAIT_MS)).toBe(true);
    const background = c.background!;
    expect(c.workers).not.toContain(background);
    const receiver = new HookReceiver();
    const url = await receiver.start();
    const auth = basic('admin', password);
    try {
      const hook = { name: 'web', config: { url, content_type: 'json' }, events: ['package'] };
      const created = await send(c.url, 'POST', '/api/v1/admin/hooks', Buffer.from(JSON.stringify(hook)), {
        headers: { ...auth, 'Content-Type': 'application/json' },
      });
      expect(created.status).toBe(201);
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
      const uploaded = await send(c.url, 'POST', `/v2/admin/hooked/blobs/uploads/?digest=${sha256(config)}`, config, {
        headers: { ...auth, 'Content-Type': 'application/octet-stream' },
      });
      expect(uploaded.status).toBe(201);
      const push = async (tag: string) => {
        const manifest = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
            layers: [],
            annotations: { tag },
          }),
        );
        const put = await send(c.url, 'PUT', `/v2/admin/hooked/manifests/${tag}`, manifest, {
          headers: { ...auth, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
        });
        expect(put.status).toBe(201);
      };

      // The hook's ping, queued by the serving worker that created it, is sent by the background worker too.
      expect(await waitFor(() => receiver.ofEvent('ping').length === 1, 20_000)).toBe(true);
      const published = () => receiver.ofEvent('package').map((r) => JSON.parse(r.body) as unknown);
      const announcing = (tag: string) => ({
        action: 'published',
        package: { package_version: { container_metadata: { tag: { name: tag } } } },
      });
      await push('one');
      expect(await waitFor(() => published().length === 1, 20_000)).toBe(true);
      expect(published()).toMatchObject([announcing('one')]);

      // Nothing else sends it: with the background worker stopped, a push is announced only once it runs again.
      process.kill(background, 'SIGSTOP');
      try {
        await push('two');
        await sleep(3_000);
        expect(published()).toHaveLength(1);
      } finally {
        process.kill(background, 'SIGCONT');
      }
      expect(await waitFor(() => published().length === 2, 20_000)).toBe(true);
      expect(published()[1]).toMatchObject(announcing('two'));
    } finally {
      await receiver.close();
    }
  });

  it('in token mode prints the generated admin password once, and every worker accepts it', async () => {
    const c = await start({ BERTH_AUTH: 'token' });
    expect(c.workers).toHaveLength(2);
    const phrase = 'Berth created the user "admin" with password:';
    expect(c.output.split(phrase).length - 1).toBe(1);
    const password = new RegExp(`${phrase} (\\S+)`).exec(c.output)?.[1];
    expect(password).toBeDefined();
    expect(password!.length).toBeGreaterThanOrEqual(16);
    // The password itself appears only in that one line, never in a log line.
    expect(c.output.split(password!).length - 1).toBe(1);

    const workers = c.workers;
    const servedBy = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const answer = await send(c.url, 'GET', '/v2/', undefined, { among: workers, headers: basic('admin', password!) });
      expect({ i, status: answer.status }).toEqual({ i, status: 200 });
      servedBy.add(answer.worker!);
    }
    expect(servedBy).toEqual(new Set(workers));
    const refusedBy = new Set<number>();
    for (let i = 0; i < 2; i++) {
      const wrong = await send(c.url, 'GET', '/v2/', undefined, { among: workers, headers: basic('admin', `${password!}x`) });
      expect(wrong.status).toBe(401);
      refusedBy.add(wrong.worker!);
    }
    expect(refusedBy).toEqual(new Set(workers));
    expect((await send(c.url, 'GET', '/v2/')).status).toBe(401);
    // Still printed only once: the workers did not create the user again.
    expect(c.output.split(phrase).length - 1).toBe(1);
  });

  it('exits 1, leaving no workers, when the workers cannot listen (port taken)', async () => {
    const taken = net.createServer();
    servers.push(taken);
    await new Promise<void>((resolve, reject) => {
      taken.once('error', reject);
      taken.listen(0, '127.0.0.1', () => resolve());
    });
    const port = (taken.address() as net.AddressInfo).port;

    const c = await launch(port);
    const exit = await c.waitExit(WAIT_MS);
    expect({ exit, output: exit ? '' : c.describe() }).toEqual({ exit: { code: 1, signal: null }, output: '' });
    // The workers failed (the primary itself binds nothing), and the primary stopped instead of restarting them.
    expect(c.output).toMatch(/EADDRINUSE/);
    expect(c.logged('a worker failed to start; stopping').length).toBeGreaterThanOrEqual(1);
    expect(c.logged('a worker died; starting another')).toEqual([]);
    expect(c.logged('berth is serving')).toEqual([]);
    expect(await waitFor(() => berthProcessesFor(c.dataDir).length === 0, WAIT_MS)).toBe(true);
  });
});
