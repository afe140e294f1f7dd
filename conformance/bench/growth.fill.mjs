// The growth benchmark's fill: setup, not measurement. It writes through Berth's own stores in-process
// (dist/, the code the server runs: SqlMetadataIndex.linkBlob, ManifestService.put), on the database the
// running server uses (its berth.db, or DATABASE_URL). Pushing over HTTP, a repository costs a blob
// upload (POST + PUT) per blob and a manifest PUT; 1M blobs that way do not fit in an hour on 2 cores
// (README: bench-growth, the measured HTTP fill rate). Blobs are recorded in the index only, not written
// to storage: nothing measured reads their bytes, and 1M files would measure the filesystem instead.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const dist = (module) => require(path.join(root, 'dist', module));

export const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const TAGS_REPO = 'growth/tags';
const pad = (i) => String(i).padStart(7, '0');
export const repoName = (i) => `growth/repo-${pad(i)}`;
export const tagName = (i) => `t-${pad(i)}`;

const sha256 = (text) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
// One config and one layer every repository links, as images share a base; their bytes never exist.
const CONFIG = { digest: sha256('growth-config'), size: 1234 };
const LAYER = { digest: sha256('growth-layer'), size: 5_678_901 };

/** An image manifest over the shared config and layer; `label` makes its digest unique. */
export function manifestBody(label) {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST_TYPE,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...CONFIG },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...LAYER }],
      annotations: { 'org.example.growth': label },
    }),
  );
}

/**
 * PostgreSQL's SERIALIZABLE writers on distinct repositories still conflict (predicate locks on shared
 * index pages); the store retries 5 times at once, and the fill's 8 concurrent writers exhaust that
 * (seen at 1k repositories). The fill is setup, so it backs off and tries again.
 */
async function retried(work) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      const code = err?.code ?? err?.cause?.code;
      if (attempt >= 50 || (code !== '40001' && code !== '40P01')) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
    }
  }
}

const REPO_BATCH = 100;
const BLOB_BATCH = 500; // 1500 parameters a statement: under SQLite's 32766 and PostgreSQL's 65535

/** `sql`, a one-row `INSERT … VALUES (?, …) …`, made to insert `rows` rows. */
function manyRows(sql, rows) {
  const one = /VALUES (\((?:\?, )*\?\))/.exec(sql)?.[1];
  if (!one) throw new Error(`not a one-row insert: ${sql}`);
  return sql.replace(one, Array(rows).fill(one).join(', '));
}

/** Repository ids by name, looked up once each (the fill creates them and never deletes one). */
function idCache(db, query) {
  const ids = new Map();
  return {
    async get(name) {
      if (!ids.has(name)) {
        const row = await db.get(query, [name]);
        if (!row) throw new Error(`repository ${name} is not there to link blobs into`);
        ids.set(name, row.id);
      }
      return ids.get(name);
    },
  };
}

/**
 * Opens Berth's stores on the server's database. `concurrency` operations run at once: PostgreSQL
 * serves them on the pool's connections (10), SQLite serialises its writers anyway.
 */
export async function openFill({ dataDir, databaseUrl, concurrency }) {
  const { connectDatabase } = dist('persistence/connect-database.js');
  const { SqlMetadataIndex } = dist('metadata/sql/sql-metadata-index.js');
  const { ManifestService } = dist('registry/manifest-service.js');
  const database = await connectDatabase({ url: databaseUrl, sqliteFile: path.join(dataDir, 'berth.db') });
  const index = new SqlMetadataIndex(database);
  const manifests = new ManifestService(index);
  const { METADATA_QUERIES: Q } = dist('metadata/sql/metadata-queries.js');
  const repositoryIds = idCache(database, Q.repositoryId);

  /** Runs `work(i)` for i in [from, to) with `concurrency` in flight, printing progress. */
  const each = async (what, from, to, work) => {
    let next = from;
    let done = 0;
    const started = Date.now();
    let shown = started;
    const runner = async () => {
      while (next < to) {
        const i = next++;
        await retried(() => work(i));
        done++;
        if (Date.now() - shown > 10_000) {
          shown = Date.now();
          const rate = done / ((shown - started) / 1000);
          console.error(`  fill ${what}: ${from + done}/${to} (${Math.round(rate)}/s)`);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, runner));
    return (Date.now() - started) / 1000;
  };

  return {
    /**
     * Repositories [from, to), each an image tagged `latest`, pushed by ManifestService.put. The rows
     * linkBlob would write first (the repository, its config and layer links) go in by linkBlob's own
     * statements given REPO_BATCH rows each: three transactions a repository ran at ~130
     * repositories/s on PostgreSQL here (load average 8-15), 100k in 13 min.
     */
    repositories: (from, to) =>
      each(`repository batches of ${REPO_BATCH}`, Math.floor(from / REPO_BATCH), Math.ceil(to / REPO_BATCH), async (batch) => {
        const now = Date.now();
        const names = [];
        for (let i = Math.max(from, batch * REPO_BATCH); i < Math.min(to, (batch + 1) * REPO_BATCH); i++) names.push(repoName(i));
        await index.linkBlob(names[0], CONFIG.digest, CONFIG.size); // the shared blobs' rows, once
        await index.linkBlob(names[0], LAYER.digest, LAYER.size);
        await database.run(
          manyRows(Q.insertRepository, names.length),
          names.flatMap((name) => [name, now]),
        );
        const links = [];
        for (const name of names) {
          const id = await repositoryIds.get(name);
          links.push([id, CONFIG.digest, now], [id, LAYER.digest, now]);
        }
        await database.run(manyRows(Q.insertLink, links.length), links.flat());
        for (const name of names) await manifests.put(name, 'latest', manifestBody(name), MANIFEST_TYPE);
      }),
    /** Tags [from, to) in TAGS_REPO, each its own manifest. */
    async tags(from, to) {
      await index.linkBlob(TAGS_REPO, CONFIG.digest, CONFIG.size);
      await index.linkBlob(TAGS_REPO, LAYER.digest, LAYER.size);
      return each('tags', from, to, (i) => manifests.put(TAGS_REPO, tagName(i), manifestBody(`tag-${i}`), MANIFEST_TYPE));
    },
    /**
     * Blobs [from, to): each a distinct digest linked into one of the first `repositories` repositories.
     * The rows linkBlob writes, by its own two statements given BLOB_BATCH rows each (multi-row VALUES):
     * one transaction per blob ran at ~830/s on PostgreSQL here (load average 10-15), 1M in 20 min.
     */
    blobs: (from, to, repositories) =>
      each(`blob batches of ${BLOB_BATCH}`, Math.floor(from / BLOB_BATCH), Math.ceil(to / BLOB_BATCH), async (batch) => {
        const now = Date.now();
        const blobRows = [];
        const linkRows = [];
        for (let i = Math.max(from, batch * BLOB_BATCH); i < Math.min(to, (batch + 1) * BLOB_BATCH); i++) {
          const digest = sha256(`growth-blob-${i}`);
          blobRows.push([digest, 1000 + (i % 9000), now]);
          linkRows.push([await repositoryIds.get(repoName(i % repositories)), digest, now]);
        }
        await database.transaction(async (tx) => {
          await tx.run(manyRows(Q.insertBlob, blobRows.length), blobRows.flat());
          await tx.run(manyRows(Q.insertLink, linkRows.length), linkRows.flat());
        });
      }),
    async close() {
      await database.close();
    },
  };
}
