// Search at the index level (issue #17), not part of `make test` or `make bench`: SqlSearchIndex.search
// called directly (the query parsed as the service parses it, 30 a page), over PACKAGES documents of
// search-documents.mjs, as anonymous (`public`: the public-only access condition) and with everything
// visible (`all`, as the HTTP bench with auth none).
//
//   npm run build && [DATABASE_URL=postgres://…] node conformance/bench/search-index.mjs [PACKAGES=100000] [ROUNDS=100]
//
// Each round asks the 12 kinds of query of search-documents.mjs once (ROUNDS × 12 queries per access).
//   BENCH_DIALECTS=sqlite,postgres   which databases (PostgreSQL only with DATABASE_URL)
//   BENCH_KEEP=DIR       keep the filled SQLite file in DIR and the PostgreSQL schema search_index_bench, and
//                        reuse them in a later run (a fill of 100k takes minutes; migrations added since run)
//   BENCH_RESULTS=FILE   write each query's total and names, in order, as JSON
//   BENCH_COMPARE=FILE   compare them with a file an earlier run wrote (say, before a change): prints the
//                        queries whose total or names differ, and exits 1 when one does
//   BENCH_EXPLAIN=1      print EXPLAIN (ANALYZE, BUFFERS) of the statements of one query per kind (PostgreSQL):
//                        buffers and rows do not depend on the machine's load, timings do
// The PostgreSQL index is filled by copying the SQLite one (same ids; tsv from the same name and body
// text as `put` writes it) in 1000-row INSERTs: ~1 min, where `put` one by one takes 20-30.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLASSES, documentOf, ms, quantile, queryMix } from './search-documents.mjs';

const require = createRequire(import.meta.url);
const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
const { SqlSearchIndex } = require(`${dist}/search/sql/sql-search-index.js`);
const { SEARCH_MIGRATIONS } = require(`${dist}/search/sql/search-migrations.js`);
const { parseSearchQuery } = require(`${dist}/search/search-query.js`);
const { connectDatabase } = require(`${dist}/persistence/connect-database.js`);
const { migrate } = require(`${dist}/persistence/migration-runner.js`);
const pg = require('pg');

const PACKAGES = Number(process.argv[2] ?? 100_000);
const ROUNDS = Number(process.argv[3] ?? 100);
const DIALECTS = (process.env.BENCH_DIALECTS ?? 'sqlite,postgres').split(',');
const KEEP = process.env.BENCH_KEEP;
const SCHEMA = 'search_index_bench';
const ACCESS = {
  public: { kind: 'some', ownerIds: [], repositoryOwnerIds: [], repositoryIds: [] },
  all: { kind: 'all' },
};

// The documents (every one drawn, so that the queries repeat a run that filled, when this one reuses a fill).
const sample = [];
const documents = function* () {
  for (let i = 0; i < PACKAGES; i++) {
    const d = documentOf(i);
    if (i % 500 === 0) sample.push(d);
    yield d;
  }
};

async function sqliteIndex() {
  const dir = KEEP ?? mkdtempSync(path.join(os.tmpdir(), 'berth-search-index-'));
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `search-${PACKAGES}.db`);
  const db = await connectDatabase({ sqliteFile: file });
  await migrate(db, [SEARCH_MIGRATIONS]);
  // A fill cut short is written again (put replaces a document by name).
  const filled = Number((await db.get('SELECT COUNT(*) AS n FROM search_documents')).n) === PACKAGES;
  const index = new SqlSearchIndex(db);
  const started = performance.now();
  let batch = [];
  for (const d of documents()) {
    if (filled) continue;
    batch.push(d);
    if (batch.length === 500) {
      await index.putAll(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await index.putAll(batch);
  console.log(`# SQLite ${file}: ${filled ? 'reused' : `filled in ${((performance.now() - started) / 1000).toFixed(1)} s`}`);
  return { db, index, drop: () => (KEEP ? undefined : rmSync(dir, { recursive: true, force: true })) };
}

async function postgresIndex(source) {
  const url = process.env.DATABASE_URL;
  const scoped = new URL(url);
  scoped.searchParams.set('options', `-c search_path=${SCHEMA}`);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
  let db = await connectDatabase({ url: scoped.toString(), sqliteFile: '' });
  await migrate(db, [SEARCH_MIGRATIONS]);
  // Reused when kept and whole (the side tables are copied last); otherwise copied anew.
  const whole = async () =>
    Number((await db.get('SELECT COUNT(*) AS n FROM search_documents')).n) === PACKAGES &&
    (await db.get('SELECT 1 AS one FROM search_platforms LIMIT 1')) !== undefined;
  if (KEEP && (await whole())) console.log(`# PostgreSQL schema ${SCHEMA}: reused`);
  else {
    await db.close();
    await admin.query(`DROP SCHEMA ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA}`);
    db = await connectDatabase({ url: scoped.toString(), sqliteFile: '' });
    await migrate(db, [SEARCH_MIGRATIONS]);
    const started = performance.now();
    await copy(source, db);
    await db.exec(`SELECT gin_clean_pending_list('search_documents_fts'::regclass)`);
    // What autovacuum does within a minute of a bulk load (it ran 5 s after the queries of a run that did not wait
    // for it): without the visibility map, every index-only scan (counts, the narrow index) reads the heap too.
    // On the plain client: VACUUM cannot run inside the transaction the Database wraps a statement in.
    await admin.query(
      `VACUUM (ANALYZE) ${['documents', 'segments', 'digests', 'tags', 'labels', 'platforms'].map((t) => `${SCHEMA}.search_${t}`).join(', ')}`,
    );
    console.log(`# PostgreSQL schema ${SCHEMA}: copied in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  await admin.end();
  return {
    db,
    index: new SqlSearchIndex(db),
    async drop() {
      await db.close();
      if (KEEP) return;
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP SCHEMA ${SCHEMA} CASCADE`);
      await c.end();
    },
  };
}

/** The SQLite index's rows into PostgreSQL's tables, the tsv made from the FTS row as `put` makes it. */
async function copy(source, db) {
  const columns = (await source.all('SELECT name FROM pragma_table_info(?)', ['search_documents'])).map((c) => c.name);
  const CHUNK = 1000;
  for (let at = 0; ; at += CHUNK) {
    const rows = await source.all(
      `SELECT ${columns.map((c) => `d.${c}`).join(', ')}, f.name AS name_text, f.body AS body_text
       FROM search_documents d JOIN search_fts f ON f.rowid = d.id ORDER BY d.id LIMIT ? OFFSET ?`,
      [CHUNK, at],
    );
    if (rows.length === 0) break;
    const one = `(${columns.map(() => '?').join(', ')}, setweight(to_tsvector('simple', ?), 'A') || setweight(to_tsvector('simple', ?), 'B'))`;
    await db.run(
      `INSERT INTO search_documents (${columns.join(', ')}, tsv) VALUES ${rows.map(() => one).join(', ')}`,
      rows.flatMap((r) => [...columns.map((c) => r[c]), r.name_text, r.body_text]),
    );
  }
  for (const table of ['search_segments', 'search_digests', 'search_tags', 'search_labels', 'search_platforms']) {
    const cols = (await source.all('SELECT name FROM pragma_table_info(?)', [table])).map((c) => c.name);
    // Some are WITHOUT ROWID: read whole (a few hundred thousand short rows), written 5000 a statement.
    const all = await source.all(`SELECT ${cols.join(', ')} FROM ${table}`);
    for (let at = 0; at < all.length; at += CHUNK * 5) {
      const rows = all.slice(at, at + CHUNK * 5);
      await db.run(
        `INSERT INTO ${table} (${cols.join(', ')}) VALUES ${rows.map(() => `(${cols.map(() => '?').join(', ')})`).join(', ')}`,
        rows.flatMap((r) => cols.map((c) => r[c])),
      );
    }
  }
  await db.exec(`SELECT setval(pg_get_serial_sequence('search_documents', 'id'), (SELECT MAX(id) FROM search_documents))`);
}

function indexQuery(q, access) {
  const parsed = parseSearchQuery(q);
  return { ...parsed, access, offset: 0, limit: 30 };
}

/** Every query of the mix once per round, per access: times by kind, and each answer (total, names). */
async function measure(label, index, queries) {
  for (const q of queries.slice(0, 24)) await index.search(indexQuery(q, ACCESS.public)); // prepares statements
  const answers = {};
  const rows = [];
  for (const [access, condition] of Object.entries(ACCESS)) {
    const byClass = CLASSES.map(() => []);
    const all = [];
    for (let i = 0; i < ROUNDS * CLASSES.length; i++) {
      const q = queries[i % queries.length];
      const t0 = performance.now();
      const result = await index.search(indexQuery(q, condition));
      const t = performance.now() - t0;
      all.push(t);
      byClass[i % CLASSES.length].push(t);
      answers[`${access} ${q}`] = { total: result.total, names: result.hits.map((h) => h.name) };
    }
    all.sort((a, b) => a - b);
    for (const c of byClass) c.sort((a, b) => a - b);
    rows.push({ access, p50: quantile(all, 0.5), p99: quantile(all, 0.99), byClass });
  }
  console.log(`\n## ${label}, ${PACKAGES} packages, ${ROUNDS * CLASSES.length} queries per access, load average ${loadAverage()}\n`);
  console.log('| | public p50 | public p99 | all p50 | all p99 |\n|---|---|---|---|---|');
  console.log(`| ${label} | ${rows.map((r) => `${ms(r.p50)} | ${ms(r.p99)}`).join(' | ')} |`);
  console.log('\n| query (p50 / p99) | public | all |\n|---|---|---|');
  CLASSES.forEach((name, k) =>
    console.log(`| ${name} | ${rows.map((r) => `${ms(quantile(r.byClass[k], 0.5))} / ${ms(quantile(r.byClass[k], 0.99))}`).join(' | ')} |`),
  );
  return answers;
}

/** EXPLAIN (ANALYZE, BUFFERS) of what one query of each kind runs: the statements are caught as the index sends them. */
async function explain(db, index, queries) {
  const statements = [];
  const all = db.all.bind(db);
  const get = db.get.bind(db);
  db.all = (sql, params) => (statements.push({ sql, params }), all(sql, params));
  db.get = (sql, params) => (statements.push({ sql, params }), get(sql, params));
  for (const [k, name] of CLASSES.entries()) {
    for (const [access, condition] of Object.entries(ACCESS)) {
      statements.length = 0;
      await index.search(indexQuery(queries[k], condition));
      for (const { sql, params } of [...statements]) {
        const plan = await all(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
        console.log(
          `\n### ${name}, ${access}: ${JSON.stringify(queries[k])}\n\n\`\`\`\n${plan.map((r) => r['QUERY PLAN']).join('\n')}\n\`\`\``,
        );
      }
    }
  }
  db.all = all;
  db.get = get;
}

function loadAverage() {
  return os
    .loadavg()
    .map((n) => n.toFixed(1))
    .join(' ');
}

const sqlite = await sqliteIndex();
const queries = queryMix(sample);
const answers = {};
if (DIALECTS.includes('sqlite')) Object.assign(answers, prefixed('sqlite', await measure('SQLite (FTS5)', sqlite.index, queries)));
if (DIALECTS.includes('postgres') && process.env.DATABASE_URL) {
  const postgres = await postgresIndex(sqlite.db);
  Object.assign(answers, prefixed('postgres', await measure('PostgreSQL (tsvector, GIN)', postgres.index, queries)));
  if (process.env.BENCH_EXPLAIN) await explain(postgres.db, postgres.index, queries);
  await postgres.drop();
}
await sqlite.db.close();
sqlite.drop();

if (process.env.BENCH_RESULTS) writeFileSync(process.env.BENCH_RESULTS, JSON.stringify(answers));
if (process.env.BENCH_COMPARE) {
  const before = JSON.parse(readFileSync(process.env.BENCH_COMPARE, 'utf8'));
  const differ = Object.keys(answers).filter((k) => k in before && JSON.stringify(before[k]) !== JSON.stringify(answers[k]));
  const compared = Object.keys(answers).filter((k) => k in before).length;
  console.log(`\n# same answers as ${process.env.BENCH_COMPARE}: ${compared - differ.length} of ${compared} distinct queries`);
  for (const k of differ.slice(0, 20))
    console.log(`# differs: ${k}\n#   before ${JSON.stringify(before[k])}\n#   now    ${JSON.stringify(answers[k])}`);
  if (differ.length > 0) process.exitCode = 1;
}

function prefixed(dialect, map) {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [`${dialect} ${k}`, v]));
}
