// What the single-server bench scripts (webhook-overhead.mjs, gc.mjs) share: a Berth of their own from dist/ on a
// free loopback port, a keep-alive HTTP client, a token for one repository, and the statistics they print.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const digestOf = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/**
 * A client of one request at a time on `agent`'s kept-alive connections, the body read whole (these answers are
 * small). A connection idle through a long run (a minute and more) may be closed by the server just as it is
 * reused: the request fails with ECONNRESET ("socket hang up", seen at the first tag push after bench.mjs's blob
 * HEAD runs) and is sent again once on a new connection, as Node's documentation advises (`request.reusedSocket`).
 * Bodies are buffers or restartable writers (a function given the request).
 */
export function requestsOn(agent) {
  const request = (base, method, p, headers = {}, body, retried = false) => {
    const u = new URL(p, base);
    return new Promise((resolve, reject) => {
      const req = http.request({ host: u.hostname, port: u.port, method, path: u.pathname + u.search, headers, agent }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', (err) => {
        if (!retried && req.reusedSocket && err.code === 'ECONNRESET') resolve(request(base, method, p, headers, body, true));
        else reject(err);
      });
      if (typeof body === 'function') body(req);
      else req.end(body);
    });
  };
  return request;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
/** One request on this module's shared keep-alive agent (closeClient() ends it). */
export const request = requestsOn(agent);

export function expectStatus(r, status, what) {
  if (r.status !== status) throw new Error(`${what}: expected ${status}, got ${r.status} ${r.body.slice(0, 300)}`);
  return r;
}

async function freePort() {
  return new Promise((resolve) => {
    const s = http.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts `berth serve` (token auth, its default workers, `env` on top) in a temporary data directory, waits until
 * every worker is up, and returns its base URL, the admin's Basic header and a token for `repository`. Killed and
 * removed when this process exits.
 */
export async function startBerth({ name, password, repository, env = {} }) {
  const work = mkdtempSync(path.join(process.env.TMPDIR ?? os.tmpdir(), `berth-${name}-bench-`));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const log = openSync(path.join(work, 'server.log'), 'a');
  // BENCH_NODE_ARGS, as for bench.mjs: flags for Berth's node (`--cpu-prof --cpu-prof-dir=DIR`; the workers inherit them).
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, path.join(root, 'dist', 'cli.js'), 'serve'], {
    env: {
      ...inherited,
      BERTH_ADDR: `127.0.0.1:${port}`,
      BERTH_DATA: path.join(work, 'data'),
      BERTH_LOG_LEVEL: 'warn',
      BERTH_AUTH: 'token',
      BERTH_ADMIN_PASSWORD: password,
      ...env,
    },
    stdio: ['ignore', log, log],
  });
  process.on('exit', () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));
  for (let i = 0; ; i++) {
    try {
      if ((await request(base, 'GET', '/v2/')).status === 401) break;
    } catch {
      // not listening yet
    }
    if (i > 300) throw new Error('Berth did not start');
    await sleep(100);
  }
  await sleep(3_000); // the cluster's other workers start after the first answers
  const basic = { Authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` };
  const challenge = await request(base, 'GET', '/v2/');
  const service = /service="([^"]*)"/.exec(challenge.headers['www-authenticate'] ?? '')?.[1] ?? '';
  async function bearer() {
    const scope = encodeURIComponent(`repository:${repository}:pull,push,delete`);
    const r = expectStatus(
      await request(base, 'GET', `/token?service=${encodeURIComponent(service)}&scope=${scope}`, basic),
      200,
      '/token',
    );
    return { Authorization: `Bearer ${JSON.parse(r.body).token}` };
  }
  return { base, basic, bearer, pid: child.pid };
}

/** A blob pushed the two-request way (POST, then PUT with ?digest=). */
export async function pushBlob(base, auth, repository, bytes, digest = digestOf(bytes)) {
  const post = expectStatus(await request(base, 'POST', `/v2/${repository}/blobs/uploads/`, auth), 202, 'POST upload');
  const loc = new URL(post.headers.location, base);
  loc.searchParams.set('digest', digest);
  const headers = { ...auth, 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.length) };
  expectStatus(await request(base, 'PUT', loc.pathname + loc.search, headers, bytes), 201, 'blob PUT');
  return digest;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

export const sum = (xs) => xs.reduce((a, b) => a + b, 0);

export function machineLine() {
  const load = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  return `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}; load average at end ${load}. Run ${new Date().toISOString()}.`;
}

export function closeClient() {
  agent.destroy();
}
