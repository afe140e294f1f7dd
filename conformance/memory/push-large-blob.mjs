// Pushes one large blob in a single streamed PATCH to a live Berth, finishes
// it with PUT ?digest=, reads it back, and reports the server's peak RSS
// (VmHWM) against a limit: memory must stay flat as blobs grow. With cluster workers the limit
// applies to each process (the worker that took the upload is the one that would grow); the
// sum over the primary and workers is reported too.
// usage: node push-large-blob.mjs URL PID SIZE_MIB LIMIT_MIB
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { treePeakRss } from '../process-tree.mjs';

const [url, pid, sizeMiB, limitMiB] = process.argv.slice(2);
const size = Number(sizeMiB) * 1024 * 1024;
const base = new URL(url);
const repo = 'memory/large';

function request(method, path, headers = {}, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: base.hostname, port: base.port, method, path, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (typeof body === 'function') body(req);
    else req.end(body);
  });
}

/** Streams `size` bytes (a random 1 MiB block, varied per block) with backpressure, hashing as it goes. */
function streamBody(hash) {
  return (req) => {
    const block = randomBytes(1024 * 1024);
    let sent = 0;
    let n = 0;
    const pump = () => {
      while (sent < size) {
        const chunk = Buffer.from(block.subarray(0, Math.min(block.length, size - sent)));
        chunk.writeUInt32BE(n++, 0);
        hash.update(chunk);
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  };
}

const started = Date.now();
const post = await request('POST', `/v2/${repo}/blobs/uploads/`);
if (post.status !== 202) throw new Error(`POST: ${post.status} ${post.body}`);
const location = post.headers.location;
const hash = createHash('sha256');
const patch = await request(
  'PATCH',
  location,
  { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
  streamBody(hash),
);
if (patch.status !== 202) throw new Error(`PATCH: ${patch.status} ${patch.body}`);
const digest = `sha256:${hash.digest('hex')}`;
const put = await request('PUT', `${location}?digest=${digest}`);
if (put.status !== 201) throw new Error(`PUT: ${put.status} ${put.body}`);
const pushSeconds = (Date.now() - started) / 1000;

const back = createHash('sha256');
let length = 0;
await new Promise((resolve, reject) => {
  http
    .get({ host: base.hostname, port: base.port, path: `/v2/${repo}/blobs/${digest}` }, (res) => {
      res.on('data', (c) => {
        back.update(c);
        length += c.length;
      });
      res.on('end', resolve);
      res.on('error', reject);
    })
    .on('error', reject);
});
const intact = `sha256:${back.digest('hex')}` === digest && length === size;
const rss = treePeakRss(pid);
const peak = rss.max;
console.log(
  `pushed ${sizeMiB} MiB in one PATCH in ${pushSeconds.toFixed(1)} s (${(Number(sizeMiB) / pushSeconds).toFixed(0)} MiB/s); read back ${intact ? 'intact' : 'CORRUPT'}`,
);
console.log(
  `Berth peak RSS (VmHWM) per process: ${rss.perProcess.map((p) => `${p.pid}: ${p.mib.toFixed(0)}`).join(', ')} MiB; all together ${rss.sum.toFixed(0)} MiB`,
);
console.log(`Berth peak RSS (VmHWM) of the largest process: ${peak.toFixed(0)} MiB (limit ${limitMiB} MiB)`);
process.exit(intact && peak < Number(limitMiB) ? 0 : 1);
