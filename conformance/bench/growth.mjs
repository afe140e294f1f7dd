// Cost as the registry grows (issue #18): Berth (open mode, dist/cli.js serve, default workers) on SQLite,
// then on PostgreSQL when DATABASE_URL is set, filled step by step; at each step the p50/p99 of a manifest
// GET, a tags-list page, a catalog page and a tag push, over keep-alive and over fresh connections.
// The goal is flat: p99 at the last step within 2× of the first. Table on stdout and in results/growth.md.
//
//   bash conformance/bench/growth.sh     (make bench-growth: builds, starts PostgreSQL, runs this, stops it)
//
// Environment: GROWTH_STEPS=1000,10000,100000 (repositories at each step; the tags in growth/tags grow
// alike and blobs are GROWTH_BLOBS_PER_REPO=10 per repository, so the last step is 100k repositories,
// 100k tags in one repository and 1M blobs), GROWTH_SAMPLES=2000 (timed requests per figure, after
// GROWTH_WARMUP=200 untimed), GROWTH_DATABASES=sqlite,postgres, GROWTH_OUT=FILE, GROWTH_KEEP=1 (keep data).
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MANIFEST_TYPE, TAGS_REPO, manifestBody, openFill, repoName, tagName } from './growth.fill.mjs';
import { percentile, sample } from './growth.measure.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const list = (v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const STEPS = list(process.env.GROWTH_STEPS ?? '1000,10000,100000').map(Number);
const BLOBS_PER_REPO = Number(process.env.GROWTH_BLOBS_PER_REPO ?? 10);
const SAMPLES = Number(process.env.GROWTH_SAMPLES ?? 2000);
const WARMUP = Number(process.env.GROWTH_WARMUP ?? 200);
const DATABASES = list(process.env.GROWTH_DATABASES ?? (process.env.DATABASE_URL ? 'sqlite,postgres' : 'sqlite'));
const OUT = process.env.GROWTH_OUT ?? path.join(here, 'results', 'growth.md');
const KEEP = process.env.GROWTH_KEEP === '1';
const GOAL = 2;
const PAGE = 100;
const children = new Set();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pick = (from, to) => from + Math.floor(Math.random() * (to - from));
// Pages start somewhere in the middle half, not at one fixed entry (a fixed page would stay cached),
// and early enough that a full page follows.
const middle = (n) => pick(Math.floor(n / 4), Math.max(Math.min(Math.floor((3 * n) / 4), n - PAGE), Math.floor(n / 4) + 1));
const log = (text) => console.error(`[growth ${new Date().toISOString().slice(11, 19)}] ${text}`);

/** The measured operations; `make(i, step, label)` builds the i-th request at a step of `step` repositories. */
const OPERATIONS = [
  {
    key: 'manifest',
    title: 'manifest GET by tag',
    make: (_i, step) => ({
      method: 'GET',
      path: `/v2/${repoName(pick(0, step))}/manifests/latest`,
      headers: { accept: MANIFEST_TYPE },
      expect: 200,
    }),
  },
  {
    key: 'tags',
    title: `tags page (n=${PAGE}, ${TAGS_REPO})`,
    make: (_i, step) => ({
      method: 'GET',
      path: `/v2/${TAGS_REPO}/tags/list?n=${PAGE}&last=${tagName(middle(step))}`,
      expect: 200,
      check: (body) => expectPage(JSON.parse(body).tags, 'tags'),
    }),
  },
  {
    key: 'catalog',
    title: `catalog page (n=${PAGE})`,
    make: (_i, step) => ({
      method: 'GET',
      path: `/v2/_catalog?n=${PAGE}&last=${encodeURIComponent(repoName(middle(step)))}`,
      expect: 200,
      check: (body) => expectPage(JSON.parse(body).repositories, 'repositories'),
    }),
  },
  {
    key: 'push',
    title: 'tag push (PUT manifest)',
    make: (i, step, label) => {
      const tag = `p-${label}-${i}`;
      return {
        method: 'PUT',
        path: `/v2/${repoName(pick(0, step))}/manifests/${tag}`,
        headers: { 'content-type': MANIFEST_TYPE },
        body: manifestBody(tag),
        expect: 201,
      };
    },
  },
];
const MODES = [
  { key: 'ka', title: 'keep-alive', keepAlive: true },
  { key: 'fresh', title: 'new connection', keepAlive: false },
];

function expectPage(entries, what) {
  if (!Array.isArray(entries) || entries.length !== PAGE) throw new Error(`a ${what} page of ${entries?.length} entries, not ${PAGE}`);
}

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

async function startBerth(dir, databaseUrl) {
  const port = await freePort();
  const logFile = path.join(dir, 'server.log');
  const fd = openSync(logFile, 'a');
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, BERTH_AUTH: 'none', BERTH_LOG_LEVEL: 'warn' };
  Object.assign(env, { BERTH_ADDR: `127.0.0.1:${port}`, BERTH_DATA: path.join(dir, 'data') });
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  const child = spawn(process.execPath, [path.join(root, 'dist', 'cli.js'), 'serve'], { env, stdio: ['ignore', fd, fd] });
  children.add(child);
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Berth exited at start:\n${readFileSync(logFile, 'utf8')}`);
    const up = await fetch(`${base}/v2/`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) throw new Error(`Berth did not answer /v2/ in 30 s; log ${logFile}`);
    await sleep(100);
  }
  // The cluster primary forks its other workers after the first answers: measure once all are up.
  await sleep(3_000);
  return {
    base,
    dataDir: env.BERTH_DATA,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(10_000)]);
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      children.delete(child);
    },
  };
}

async function runDatabase(db) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `berth-growth-${db}-`));
  const databaseUrl = db === 'postgres' ? process.env.DATABASE_URL : undefined;
  if (db === 'postgres' && !databaseUrl) throw new Error('postgres needs DATABASE_URL (growth.sh starts one)');
  const loadBefore = os.loadavg();
  const server = await startBerth(dir, databaseUrl);
  log(`${db}: Berth at ${server.base}, data in ${dir}`);
  // PostgreSQL runs the fill's transactions on its pool's connections; SQLite has one writer at a time.
  const fill = await openFill({ dataDir: server.dataDir, databaseUrl, concurrency: db === 'postgres' ? 8 : 1 });
  const rows = [];
  try {
    let done = 0;
    for (const step of STEPS) {
      log(`${db}: filling to ${step} repositories, ${step} tags, ${step * BLOBS_PER_REPO} blobs`);
      const fillSeconds =
        (await fill.repositories(done, step)) +
        (await fill.tags(done, step)) +
        (await fill.blobs(done * BLOBS_PER_REPO, step * BLOBS_PER_REPO, step));
      done = step;
      const row = { step, fillSeconds, figures: {} };
      for (const op of OPERATIONS) {
        for (const mode of MODES) {
          const label = `${db}-${step}-${mode.key}`;
          const times = await sample(server.base, {
            count: SAMPLES,
            warmup: WARMUP,
            keepAlive: mode.keepAlive,
            make: (i) => op.make(i, step, label),
          });
          row.figures[`${op.key}.${mode.key}`] = { p50: percentile(times, 50), p99: percentile(times, 99) };
          log(`${db} ${step}: ${op.title}, ${mode.title}: p50 ${fmt(percentile(times, 50))} p99 ${fmt(percentile(times, 99))} ms`);
        }
      }
      rows.push(row);
    }
  } finally {
    await fill.close();
    await server.stop();
    if (!KEEP) rmSync(dir, { recursive: true, force: true });
  }
  return { db, rows, loadBefore, loadAfter: os.loadavg() };
}

const fmt = (ms) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(2));
const count = (n) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n));

function table({ db, rows, loadBefore, loadAfter }) {
  const columns = OPERATIONS.flatMap((op) => MODES.map((mode) => ({ key: `${op.key}.${mode.key}`, title: `${op.title}, ${mode.title}` })));
  const lines = [
    `### ${db === 'postgres' ? 'PostgreSQL' : 'SQLite'}`,
    '',
    `p50 / p99 in ms, ${SAMPLES} requests each, one at a time. Load average before ${loads(loadBefore)}, after ${loads(loadAfter)}.`,
    '',
    `| step | fill (s) | ${columns.map((c) => c.title).join(' | ')} |`,
    `|---|---:|${columns.map(() => '---:').join('|')}|`,
  ];
  for (const r of rows) {
    const cells = columns.map((c) => `${fmt(r.figures[c.key].p50)} / ${fmt(r.figures[c.key].p99)}`);
    const what = `${count(r.step)} repos, ${count(r.step)} tags, ${count(r.step * BLOBS_PER_REPO)} blobs`;
    lines.push(`| ${what} | ${r.fillSeconds.toFixed(0)} | ${cells.join(' | ')} |`);
  }
  if (rows.length > 1) {
    const first = rows[0];
    const last = rows[rows.length - 1];
    const ratios = columns.map((c) => {
      const ratio = last.figures[c.key].p99 / first.figures[c.key].p99;
      return `${ratio.toFixed(2)} ${ratio <= GOAL ? '✓' : '✗'}`;
    });
    lines.push(`| p99 ${count(last.step)} ÷ ${count(first.step)} (goal ≤ ${GOAL}) | | ${ratios.join(' | ')} |`);
  }
  return lines.join('\n');
}

const loads = (l) => l.map((x) => x.toFixed(2)).join(' ');

async function main() {
  const started = new Date();
  const results = [];
  for (const db of DATABASES) results.push(await runDatabase(db));
  const text = [
    `# make bench-growth — ${started.toISOString()}`,
    '',
    ...results.flatMap((r) => [table(r), '']),
    `- Machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, shared with other work (load averages above); loopback only.`,
    `- Berth: open mode, default BERTH_WORKERS (auto: ${Math.min(os.availableParallelism(), 8)} workers and a cluster primary), filesystem storage; one database at a time.`,
    "- Fill (not measured): in-process through Berth's stores (dist/): every manifest and tag by ManifestService.put; repository rows and blob links by linkBlob's own statements, many rows to a statement; blobs in the index only, not in storage (README: bench-growth).",
    '- Measured: HTTP requests to the running server, one at a time, by a Node client on the same machine.',
    `- Run took ${((Date.now() - started.getTime()) / 60_000).toFixed(1)} min.`,
    '',
  ].join('\n');
  process.stdout.write(`\n${text}`);
  writeFileSync(OUT, text);
  log(`wrote ${OUT}`);
}

function killChildren() {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
}
process.on('exit', killChildren);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killChildren();
    process.exit(130);
  });
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
