// Search bench (issue #17), not part of `make test` or `make bench`:
//
//   npm run build && node conformance/bench/search.mjs [PACKAGES=100000] [QUERIES=3000]
//
// 1. Push impact: 1000 distinct image manifests pushed one by one as tags of one repository (each
//    push reindexes the package: its versions, tags, digests and its image config's labels) on a
//    fresh Berth with the indexer on, and on another with it off (its `schedule` replaced by a no-op):
//    total time, per-push p50/p99, and how long the index takes to catch up after the last push.
// 2. Search latency over HTTP: PACKAGES documents written DIRECTLY through the SearchIndex interface
//    (SqlSearchIndex.putAll: no images are pushed; the documents are what the indexer would build), then
//    QUERIES sequential GET /api/v1/search/packages requests on one keep-alive connection, anonymous
//    (access filtered to public packages in the query), a mix of exact names, name prefixes,
//    segments, description words, qualifiers, digest prefixes and the empty query: p50/p99/max.
//    On SQLite (the embedded default) and, with DATABASE_URL set (conformance/services.sh pg_start),
//    on PostgreSQL (a fresh schema of its own, dropped afterwards).
// Berth runs in this process (auth none, filesystem blobs, one process), on 127.0.0.1.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLASSES, documentOf, ms, quantile, queryMix, sha256 } from './search-documents.mjs';

const require = createRequire(import.meta.url);
const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
const { createRegistry } = require(`${dist}/composition-root.js`);
const { DEFAULT_CONFIG } = require(`${dist}/config.js`);
const { createLogger } = require(`${dist}/log.js`);
const { SqlSearchIndex } = require(`${dist}/search/sql/sql-search-index.js`);
const { connectDatabase } = require(`${dist}/persistence/connect-database.js`);
const pg = require('pg');

const PACKAGES = Number(process.argv[2] ?? 100_000);
const QUERIES = Number(process.argv[3] ?? 3000);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

async function start(database) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'berth-search-bench-'));
  const base = structuredClone(DEFAULT_CONFIG);
  const config = {
    ...base,
    logLevel: 'silent',
    dataDir,
    auth: { ...base.auth, mode: 'none' },
    workers: 1,
    ...(database ? { database } : {}),
  };
  const registry = await createRegistry(config, createLogger('silent'));
  const server = http.createServer(
    { IncomingMessage: registry.app.IncomingMessage, ServerResponse: registry.app.ServerResponse },
    registry.app,
  );
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  return {
    registry,
    port,
    dataDir,
    async stop() {
      await new Promise((resolve) => server.close(resolve));
      server.closeAllConnections?.();
      await registry.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

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

async function pushBlob(port, repo, content) {
  const digest = sha256(content);
  const res = await request(port, 'POST', `/v2/${repo}/blobs/uploads/?digest=${digest}`, content, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': content.length,
  });
  if (res.status !== 201) throw new Error(`blob push: ${res.status}`);
  return { digest, size: content.length };
}

async function pushImpact(indexing) {
  const s = await start();
  if (!indexing) s.registry.search.schedule = () => undefined;
  const repo = 'bench/app';
  const labels = { 'org.opencontainers.image.description': 'a bench image', 'org.opencontainers.image.licenses': 'MIT' };
  const config = await pushBlob(
    s.port,
    repo,
    Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', config: { Labels: labels } })),
  );
  const layer = await pushBlob(s.port, repo, randomBytes(1024));
  const times = [];
  const started = performance.now();
  for (let i = 0; i < 1000; i++) {
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
        annotations: { n: String(i) },
      }),
    );
    const t0 = performance.now();
    const res = await request(s.port, 'PUT', `/v2/${repo}/manifests/t${i}`, manifest, {
      'Content-Type': 'application/vnd.oci.image.manifest.v1+json',
      'Content-Length': manifest.length,
    });
    times.push(performance.now() - t0);
    if (res.status !== 201) throw new Error(`manifest push: ${res.status}`);
  }
  const total = performance.now() - started;
  const t1 = performance.now();
  await s.registry.search.idle();
  const catchUp = performance.now() - t1;
  let found = null;
  if (indexing) {
    const res = await request(s.port, 'GET', '/api/v1/search/packages?q=tag:t999');
    found = JSON.parse(res.body.toString()).total_count;
  }
  await s.stop();
  times.sort((a, b) => a - b);
  return { total, p50: quantile(times, 0.5), p99: quantile(times, 0.99), catchUp, found };
}

async function searchLatency(label, database, dropSchema) {
  const s = await start(database);
  await s.registry.search.idle();
  const db = await connectDatabase({ url: database?.url, sqliteFile: path.join(s.dataDir, 'berth.db') });
  const index = new SqlSearchIndex(db);
  const docs = [];
  const fillStarted = performance.now();
  // 500 documents a transaction (SqlSearchIndex.putAll, as `put` writes each), one at a time:
  // concurrent ones of that size fail to serialize on PostgreSQL past the retries.
  const BATCH = 500;
  for (let at = 0; at < PACKAGES; at += BATCH) {
    const batch = [];
    for (let i = at; i < Math.min(PACKAGES, at + BATCH); i++) {
      const d = documentOf(i);
      if (i % 500 === 0) docs.push(d);
      batch.push(d);
    }
    await index.putAll(batch);
  }
  const fill = performance.now() - fillStarted;
  if (db.dialect === 'postgres') await db.exec('ANALYZE');
  const queries = queryMix(docs);
  // Warm-up: the first requests compile the route and prepare statements.
  for (const q of queries.slice(0, 200)) await request(s.port, 'GET', `/api/v1/search/packages?q=${encodeURIComponent(q)}`);
  const times = [];
  const totals = [];
  const byClass = CLASSES.map(() => []);
  for (let i = 0; i < QUERIES; i++) {
    const q = queries[i % queries.length];
    const t0 = performance.now();
    const res = await request(s.port, 'GET', `/api/v1/search/packages?q=${encodeURIComponent(q)}&per_page=30`);
    times.push(performance.now() - t0);
    byClass[i % CLASSES.length].push(times[times.length - 1]);
    if (res.status !== 200) throw new Error(`search ${q}: ${res.status} ${res.body}`);
    totals.push(JSON.parse(res.body.toString()).total_count);
  }
  await db.close();
  await s.stop();
  if (dropSchema) await dropSchema();
  times.sort((a, b) => a - b);
  for (const c of byClass) c.sort((a, b) => a - b);
  return {
    label,
    byClass,
    fill,
    p50: quantile(times, 0.5),
    p99: quantile(times, 0.99),
    max: times[times.length - 1],
    hits: totals.filter((n) => n > 0).length,
  };
}

async function postgresSchema() {
  const url = process.env.DATABASE_URL;
  if (!url) return null;
  const schema = `search_bench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const scoped = new URL(url);
  scoped.searchParams.set('options', `-c search_path=${schema}`);
  return {
    database: { url: scoped.toString() },
    async drop() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    },
  };
}

const PHASES = (process.env.BENCH_PHASES ?? 'push,search').split(',');
// BENCH_DIALECTS=sqlite skips PostgreSQL even with DATABASE_URL set.
const DIALECTS = (process.env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',');
if (PHASES.includes('push')) {
  const off = await pushImpact(false);
  const on = await pushImpact(true);
  console.log('## Push impact: 1000 tag pushes of one repository, SQLite, one process\n');
  console.log('| indexer | total | push p50 | push p99 | index caught up after the last push | found by tag:t999 |');
  console.log('|---|---|---|---|---|---|');
  console.log(`| off | ${ms(off.total)} | ${ms(off.p50)} | ${ms(off.p99)} | - | - |`);
  console.log(`| on | ${ms(on.total)} | ${ms(on.p50)} | ${ms(on.p99)} | ${ms(on.catchUp)} | ${on.found} |`);
}
if (PHASES.includes('search')) {
  console.log(`\n## Search over HTTP: ${PACKAGES} packages, ${QUERIES} sequential anonymous queries\n`);
  console.log('| database | fill (SearchIndex.put) | p50 | p99 | max | queries with hits |');
  console.log('|---|---|---|---|---|---|');
  const row = (r) =>
    console.log(`| ${r.label} | ${(r.fill / 1000).toFixed(1)} s | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.hits}/${QUERIES} |`);
  const measured = [];
  if (DIALECTS.includes('sqlite')) {
    measured.push(await searchLatency('SQLite (FTS5)'));
    row(measured[0]);
  }
  const schema = DIALECTS.includes('postgres') ? await postgresSchema() : null;
  if (schema) {
    measured.push(await searchLatency('PostgreSQL (tsvector, GIN)', schema.database, schema.drop));
    row(measured[measured.length - 1]);
  }
  console.log(`\n### p50 / p99 by kind of query\n`);
  console.log(`| query | ${measured.map((m) => m.label).join(' | ')} |`);
  console.log(`|---|${measured.map(() => '---').join('|')}|`);
  CLASSES.forEach((name, k) =>
    console.log(
      `| ${name} | ${measured.map((m) => `${ms(quantile(m.byClass[k], 0.5))} / ${ms(quantile(m.byClass[k], 0.99))}`).join(' | ')} |`,
    ),
  );
}
agent.destroy();
