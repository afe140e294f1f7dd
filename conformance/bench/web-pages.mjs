// Web pages bench (issue #17), run by `make bench` (conformance/bench/run.sh, BENCH_WEB=0 leaves it out):
//
//   npm run build && node conformance/bench/web-pages.mjs [VERSIONS=1000] [REQUESTS=1000]
//
// A Berth in this process (token auth, SQLite, filesystem blobs, one process, 127.0.0.1) holding one
// public package, admin/web, with VERSIONS distinct image manifests pushed one by one, each tagged
// (v1…vN, the newest also `latest`), each config carrying labels. Then REQUESTS sequential anonymous GETs
// on one keep-alive connection of each page: the package page (first page of the versions tree, and a deep
// page), a version page, the owner page, the search page and the home page: p50/p99/max in ms (the round
// trip over loopback, an upper bound of the server's time) and the size of each page's HTML (no images
// exist; the stylesheet and script are given once, cached for a year).
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
const { createRegistry } = require(`${dist}/composition-root.js`);
const { DEFAULT_CONFIG } = require(`${dist}/config.js`);
const { createLogger } = require(`${dist}/log.js`);

const VERSIONS = Number(process.argv[2] ?? 1000);
const REQUESTS = Number(process.argv[3] ?? 1000);
const PASSWORD = 'bench-admin-password';
// Issue #17's goals: a package page with 1,000 versions at p99 under 50 ms, every page under 100 KB without images.
const GOAL_P99_MS = 50;
const GOAL_BYTES = 100 * 1000;
const BASIC = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(port, method, urlPath, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const sha256 = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function pushBlob(port, repo, content) {
  const res = await request(port, 'POST', `/v2/${repo}/blobs/uploads/?digest=${sha256(content)}`, content, {
    Authorization: BASIC,
    'Content-Type': 'application/octet-stream',
  });
  if (res.status !== 201) throw new Error(`blob push: ${res.status} ${res.body}`);
  return { digest: sha256(content), size: content.length };
}

async function pushVersion(port, i) {
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: {
        Labels: {
          'org.opencontainers.image.description': `Version ${i} of the bench image`,
          'org.opencontainers.image.source': 'https://github.com/acme/web',
          'org.opencontainers.image.revision': createHash('sha1').update(String(i)).digest('hex'),
          'org.opencontainers.image.licenses': 'MIT',
        },
      },
      rootfs: { type: 'layers', diff_ids: [] },
    }),
  );
  const layer = Buffer.from(`layer ${i} `.repeat(64));
  const c = await pushBlob(port, 'admin/web', config);
  const l = await pushBlob(port, 'admin/web', layer);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...c },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...l }],
    }),
  );
  for (const tag of i === VERSIONS ? [`v${i}`, 'latest'] : [`v${i}`]) {
    const res = await request(port, 'PUT', `/v2/admin/web/manifests/${tag}`, manifest, {
      Authorization: BASIC,
      'Content-Type': 'application/vnd.oci.image.manifest.v1+json',
    });
    if (res.status !== 201) throw new Error(`manifest push: ${res.status} ${res.body}`);
  }
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function measure(port, label, urlPath) {
  const first = await request(port, 'GET', urlPath);
  if (first.status !== 200) throw new Error(`${label}: ${first.status}`);
  // Warm-up, not counted: the figures are of a server whose JIT has compiled the route.
  for (let i = 0; i < 50; i++) await request(port, 'GET', urlPath);
  const times = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = process.hrtime.bigint();
    const res = await request(port, 'GET', urlPath);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (res.status !== 200) throw new Error(`${label}: ${res.status}`);
  }
  times.sort((a, b) => a - b);
  const f = (n) => n.toFixed(2);
  console.log(
    `| ${label} | \`${urlPath}\` | ${f(percentile(times, 50))} | ${f(percentile(times, 99))} | ${f(times[times.length - 1])} | ${(first.body.length / 1024).toFixed(1)} | ${percentile(times, 99) < GOAL_P99_MS && first.body.length < GOAL_BYTES ? '✓' : '✗'} |`,
  );
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'berth-web-bench-'));
const base = structuredClone(DEFAULT_CONFIG);
const config = { ...base, logLevel: 'silent', dataDir, auth: { ...base.auth, mode: 'token', adminPassword: PASSWORD }, workers: 1 };
const registry = await createRegistry(config, createLogger('silent'));
const server = http.createServer(
  { IncomingMessage: registry.app.IncomingMessage, ServerResponse: registry.app.ServerResponse },
  registry.app,
);
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = server.address().port;
try {
  const t0 = Date.now();
  for (let i = 1; i <= VERSIONS; i++) await pushVersion(port, i);
  const visibility = await request(port, 'PATCH', '/api/v1/packages/admin/web', JSON.stringify({ visibility: 'public' }), {
    Authorization: BASIC,
    'Content-Type': 'application/json',
  });
  if (visibility.status !== 200) throw new Error(`visibility: ${visibility.status}`);
  await registry.search.idle();
  console.log(
    `# ${VERSIONS} versions pushed in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${REQUESTS} requests per page, sequential, keep-alive`,
  );
  const home = (await request(port, 'GET', '/orgs/admin/packages')).status === 404 ? '/users/admin' : '/orgs/admin';
  const pkg = `${home}/packages/container/package/web`;
  const page = await request(port, 'GET', pkg);
  const versionPath = /href="(\/users\/admin\/packages\/container\/web\/\d+)"/.exec(page.body.toString())?.[1];
  console.log(`| page | path | p50 ms | p99 ms | max ms | HTML KiB | p99 < ${GOAL_P99_MS} ms, < 100 KB |`);
  console.log('|---|---|---|---|---|---|---|');
  await measure(port, 'package, newest versions', pkg);
  await measure(port, 'package, page 30 of versions', `${pkg}?page=30`);
  await measure(port, 'version', versionPath);
  await measure(port, 'owner', `${home}/packages`);
  await measure(port, 'search', '/search?q=web');
  await measure(port, 'home', '/');
} finally {
  await new Promise((resolve) => server.close(resolve));
  server.closeAllConnections?.();
  await registry.close();
  rmSync(dataDir, { recursive: true, force: true });
}
