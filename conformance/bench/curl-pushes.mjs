// Pushes the way command-line clients and scripts send them: every request is a new curl process,
// so a new connection. Berth's cluster primary hands each new connection to the next worker, so
// consecutive chunks of one upload land on different workers: the case a keep-alive client (one
// connection, one worker) never shows. Used by bench.mjs (phase `fresh`).
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

const MiB = 1024 * 1024;

/** One curl request; its status, headers, and curl's own time_total in ms (no process start-up). */
function curl(args) {
  const out = execFileSync('curl', ['-sS', '-o', '/dev/null', '-D', '-', '-w', '\n%{http_code} %{time_total}', ...args], {
    encoding: 'utf8',
    maxBuffer: 4 * MiB,
  });
  const lines = out.trimEnd().split('\n');
  const [status, seconds] = lines.pop().split(' ');
  const headers = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(status), headers, ms: Number(seconds) * 1000 };
}

function expectStatus(r, status, what) {
  if (r.status !== status) throw new Error(`${what}: expected ${status}, got ${r.status}`);
  return r;
}

const authArgs = (server) => (server.token ? ['-H', `Authorization: Bearer ${server.token}`] : []);

function startUpload(server, repo) {
  const r = expectStatus(curl([...authArgs(server), '-X', 'POST', `${server.base}/v2/${repo}/blobs/uploads/`]), 202, 'POST upload');
  return { location: new URL(r.headers.location, server.base), ms: r.ms };
}

/** Median of the `n` values starting at `from` (clamped to the array). */
function medianAt(xs, from, n = 3) {
  const start = Math.max(0, Math.min(from, xs.length - n));
  const w = xs.slice(start, start + n).sort((a, b) => a - b);
  return w[Math.floor(w.length / 2)];
}

/**
 * Chunk files for one chunk size: a shared body and, per push, a fresh first chunk (so every push
 * uploads a blob the server has not seen). The blob is the first chunk then (n − 1) shared ones.
 */
export function chunkFiles(dir, chunkMiB) {
  const shared = path.join(dir, `chunk-${chunkMiB}m.bin`);
  const first = path.join(dir, `chunk-${chunkMiB}m-first.bin`);
  const sharedBytes = randomBytes(chunkMiB * MiB);
  writeFile(shared, [sharedBytes]);
  return {
    chunkMiB,
    /** A new first chunk; the digest of the blob of `sizeMiB` it starts. */
    variant(sizeMiB) {
      const firstBytes = randomBytes(chunkMiB * MiB);
      writeFile(first, [firstBytes]);
      const h = createHash('sha256').update(firstBytes);
      for (let i = 1; i < sizeMiB / chunkMiB; i++) h.update(sharedBytes);
      return { first, shared, digest: `sha256:${h.digest('hex')}` };
    },
    remove() {
      rmSync(shared, { force: true });
      rmSync(first, { force: true });
    },
  };
}

function writeFile(file, buffers) {
  const fd = openSync(file, 'w');
  try {
    for (const b of buffers) writeSync(fd, b);
  } finally {
    closeSync(fd);
  }
}

/**
 * A chunked push of `sizeMiB` in PATCHes of `files.chunkMiB`, each PATCH by a new curl process
 * (`--data-binary @file`, as a script would), then a bodiless PUT. Returns MiB/s over the whole
 * push (wall time, curl start-ups included) and the PATCH latencies curl measured at the first,
 * middle and last chunk (each the median of 3 neighbouring PATCHes, so one scheduling hiccup on a
 * shared machine does not make the figure).
 */
export function pushChunksWithCurl(server, repo, sizeMiB, files) {
  const { first, shared, digest } = files.variant(sizeMiB);
  const chunk = files.chunkMiB * MiB;
  const n = sizeMiB / files.chunkMiB;
  const started = process.hrtime.bigint();
  let { location } = startUpload(server, repo);
  const latencies = [];
  for (let i = 0; i < n; i++) {
    const range = `${i * chunk}-${(i + 1) * chunk - 1}`;
    const r = curl([
      ...authArgs(server),
      '-X',
      'PATCH',
      '-H',
      'Content-Type: application/octet-stream',
      '-H',
      `Content-Range: ${range}`,
      '--data-binary',
      `@${i === 0 ? first : shared}`,
      location.toString(),
    ]);
    expectStatus(r, 202, `PATCH ${range}`);
    latencies.push(r.ms);
    location = new URL(r.headers.location, server.base);
  }
  location.searchParams.set('digest', digest);
  expectStatus(curl([...authArgs(server), '-X', 'PUT', '-H', 'Content-Length: 0', location.toString()]), 201, 'chunked PUT');
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    mibps: sizeMiB / seconds,
    firstMs: medianAt(latencies, 0),
    middleMs: medianAt(latencies, Math.floor(n / 2) - 1),
    lastMs: medianAt(latencies, n - 3),
    latencies,
  };
}

/**
 * Monolithic push the way curl sends a file: POST, then one PUT with the whole file and `?digest=`.
 * `mode`: `upload` (`-T file`: streamed from the file, Content-Length, curl's default
 * `Expect: 100-continue`), `upload-no-expect` (the same with `Expect:` removed), `data` (`--data-binary
 * @file`: read into memory first, then sent). MiB/s over the POST and the PUT as curl timed them.
 */
export function pushFileWithCurl(server, repo, file, sizeMiB, digest, mode) {
  const post = startUpload(server, repo);
  const location = post.location;
  location.searchParams.set('digest', digest);
  const body = mode === 'data' ? ['--data-binary', `@${file}`] : ['-T', file];
  const expect = mode === 'upload-no-expect' ? ['-H', 'Expect:'] : [];
  const put = curl([
    ...authArgs(server),
    '-X',
    'PUT',
    '-H',
    'Content-Type: application/octet-stream',
    ...expect,
    ...body,
    location.toString(),
  ]);
  expectStatus(put, 201, `monolithic PUT (${mode})`);
  return sizeMiB / ((post.ms + put.ms) / 1000);
}

/** A file of `sizeMiB` for monolithic pushes, new content in its first MiB each time; its digest. */
export function blobFile(file, sizeMiB, body) {
  const head = randomBytes(MiB);
  const fd = openSync(file, 'w');
  const h = createHash('sha256');
  try {
    writeSync(fd, head);
    h.update(head);
    for (let i = 1; i < sizeMiB; i++) {
      writeSync(fd, body);
      h.update(body);
    }
  } finally {
    closeSync(fd);
  }
  return `sha256:${h.digest('hex')}`;
}
