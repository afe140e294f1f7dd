// Push throughput of one blob through UploadService (the whole service path: hashing,
// staging, session updates, digest verification and commit), with Node's native SHA-256
// kept in process ("process") against the resumable WebAssembly SHA-256 whose state is
// saved with the session after each chunk ("session"). Same blob, same run, alternated.
//
//   node conformance/bench/push-throughput.mjs [BLOB_MIB=1024] [ROUNDS=3] [CHUNK_MIB=0]
//
// CHUNK_MIB=0 sends the blob as one PATCH (docker, containerd); N sends N-MiB PATCHes.
// With REDIS_URL set it adds Redis sessions, with S3_* set (conformance/services.sh) S3 blobs.
// Needs `npm run build` first (it loads dist/).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
const { UploadService } = require(`${dist}/registry/upload-service.js`);
const { FsBlobStore } = require(`${dist}/storage/fs/fs-blob-store.js`);
const { S3BlobStore } = require(`${dist}/storage/s3/s3-blob-store.js`);
const { createS3Client } = require(`${dist}/storage/s3/s3-client.js`);
const { SqlUploadSessionStore } = require(`${dist}/sessions/sql/sql-upload-session-store.js`);
const { UPLOAD_SESSION_MIGRATIONS } = require(`${dist}/sessions/sql/upload-session-migrations.js`);
const { RedisUploadSessionStore } = require(`${dist}/sessions/redis/redis-upload-session-store.js`);
const { openDatabase } = require(`${dist}/persistence/sqlite-file.js`);
const { SqlMetadataIndex } = require(`${dist}/metadata/sql/sql-metadata-index.js`);
const { METADATA_MIGRATIONS } = require(`${dist}/metadata/sql/metadata-migrations.js`);
const { SqliteDatabase } = require(`${dist}/persistence/sqlite-database.js`);
const { migrate } = require(`${dist}/persistence/migration-runner.js`);
const { createLogger } = require(`${dist}/log.js`);
const { Redis } = require('ioredis');

const MiB = 1024 * 1024;
const blobMiB = Number(process.argv[2] ?? 1024);
const rounds = Number(process.argv[3] ?? 3);
const chunkMiB = Number(process.argv[4] ?? 0);

// A 1 MiB random block repeated with a counter: incompressible, and cheap to produce.
const block = randomBytes(MiB);
function blobPieces() {
  const pieces = [];
  for (let i = 0; i < blobMiB; i++) {
    const b = Buffer.from(block);
    b.writeUInt32LE(i, 0);
    pieces.push(b);
  }
  return pieces;
}
const pieces = blobPieces();
const digest = `sha256:${pieces.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex')}`;

/** Delivers [from, to) MiB of the blob in 64 KiB slices, as a socket would. */
function body(from, to) {
  return Readable.from(
    (function* () {
      for (let i = from; i < to; i++) for (let o = 0; o < MiB; o += 64 * 1024) yield pieces[i].subarray(o, o + 64 * 1024);
    })(),
    { objectMode: false },
  );
}

async function push(uploads, repository) {
  const started = process.hrtime.bigint();
  const session = await uploads.start(repository);
  if (chunkMiB > 0) {
    for (let from = 0; from < blobMiB; from += chunkMiB) {
      const to = Math.min(blobMiB, from + chunkMiB);
      await uploads.append(repository, session.id, body(from, to), { start: from * MiB, end: to * MiB - 1 });
    }
    await uploads.complete(repository, session.id, digest);
  } else {
    await uploads.append(repository, session.id, body(0, blobMiB));
    await uploads.complete(repository, session.id, digest);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return blobMiB / seconds;
}

const configurations = [];
const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-'));
const db = new SqliteDatabase(openDatabase(path.join(dir, 'berth.db')));
await migrate(db, [METADATA_MIGRATIONS, UPLOAD_SESSION_MIGRATIONS]);
const index = new SqlMetadataIndex(db);
const log = createLogger('silent');
const fs = new FsBlobStore(path.join(dir, 'storage'));
await fs.init();
const sqlite = new SqlUploadSessionStore(db);
configurations.push(['fs + sqlite, native hash in process', fs, sqlite, 'process']);
configurations.push(['fs + sqlite, resumable hash in session', fs, sqlite, 'session']);
let redis = null;
let s3client = null;
if (process.env.REDIS_URL) {
  redis = new Redis(process.env.REDIS_URL);
  const sessions = new RedisUploadSessionStore(redis, { keyPrefix: `berth-bench:${process.pid}:`, sessionTtlMs: 3600_000 });
  configurations.push(['fs + redis, resumable hash in session', fs, sessions, 'session']);
  if (process.env.S3_ENDPOINT) {
    s3client = createS3Client({
      endpoint: process.env.S3_ENDPOINT,
      region: process.env.S3_REGION ?? 'us-east-1',
      accessKeyId: process.env.S3_ACCESS_KEY_ID,
      secretAccessKey: process.env.S3_SECRET_ACCESS_KEY,
      forcePathStyle: true,
    });
    const s3 = new S3BlobStore(s3client, { bucket: process.env.S3_BUCKET, prefix: `bench-${process.pid}/` });
    configurations.push(['s3 + redis, resumable hash in session', s3, sessions, 'session']);
  }
}

// Raw hash speed on the same bytes, for reference.
{
  const { createSHA256 } = require('hash-wasm');
  const wasm = await createSHA256();
  let t = process.hrtime.bigint();
  const native = createHash('sha256');
  for (const p of pieces) native.update(p);
  native.digest();
  const nativeRate = blobMiB / (Number(process.hrtime.bigint() - t) / 1e9);
  t = process.hrtime.bigint();
  wasm.init();
  for (const p of pieces) wasm.update(p);
  wasm.digest();
  const wasmRate = blobMiB / (Number(process.hrtime.bigint() - t) / 1e9);
  console.log(`hash only: native ${nativeRate.toFixed(0)} MiB/s, hash-wasm ${wasmRate.toFixed(0)} MiB/s`);
}

const results = new Map(configurations.map(([name]) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const [name, blobs, sessions, hashing] of configurations) {
    const uploads = new UploadService(blobs, sessions, index, log, { sessionTtlMs: 3600_000, hashing });
    results.get(name).push(await push(uploads, `bench/r${round}`));
    await blobs.delete(digest);
  }
}
console.log(`push of one ${blobMiB} MiB blob, ${chunkMiB > 0 ? `${chunkMiB} MiB PATCHes` : 'one PATCH'}, ${rounds} rounds (median, all):`);
for (const [name, rates] of results) {
  const sorted = [...rates].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  console.log(`  ${name.padEnd(42)} ${median.toFixed(0).padStart(5)} MiB/s   (${rates.map((r) => r.toFixed(0)).join(', ')})`);
}
redis?.quit();
s3client?.destroy();
await db.close();
rmSync(dir, { recursive: true, force: true });
