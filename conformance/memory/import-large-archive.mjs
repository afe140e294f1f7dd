// Imports a large image archive (an OCI layout tar whose one layer is SIZE_MIB) into a live Berth through
// POST /api/v1/packages/…/import, the multipart form streamed as it is generated (nothing on disk), then
// pulls the layer back and reports the server's peak RSS (VmHWM) against a limit (issue #21: flat memory).
// usage: node import-large-archive.mjs URL PID SIZE_MIB LIMIT_MIB
import { createHash } from 'node:crypto';
import http from 'node:http';
import { pack } from 'tar-stream';
import { treePeakRss } from '../process-tree.mjs';

const [url, pid, sizeMiB, limitMiB] = process.argv.slice(2);
const size = Number(sizeMiB) * 1024 * 1024;
const base = new URL(url);
const repo = 'memory/imported';
const BLOCK = 1024 * 1024;

/** The layer's n-th MiB: distinct blocks, the same on both passes. */
function block(n) {
  const b = Buffer.alloc(Math.min(BLOCK, size - n * BLOCK), n % 251);
  b.writeUInt32BE(n, 0);
  return b;
}
const blocks = Math.ceil(size / BLOCK);
const sha = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

// First pass: the layer's digest, which its entry's name needs before its bytes.
const layerHash = createHash('sha256');
for (let n = 0; n < blocks; n++) layerHash.update(block(n));
const layerDigest = `sha256:${layerHash.digest('hex')}`;
const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size }],
  }),
);
const index = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: sha(manifest),
        size: manifest.length,
        annotations: { 'org.opencontainers.image.ref.name': 'big' },
      },
    ],
  }),
);
const path = (digest) => `blobs/${digest.replace(':', '/')}`;

const boundary = `berth-${Date.now()}`;
const started = Date.now();
const response = await new Promise((resolve, reject) => {
  const req = http.request(
    {
      host: base.hostname,
      port: base.port,
      method: 'POST',
      path: `/api/v1/packages/${repo}/import`,
      headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Transfer-Encoding': 'chunked' },
    },
    (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c)).on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    },
  );
  req.on('error', reject);
  req.write(
    `--${boundary}\r\nContent-Disposition: form-data; name="archive"; filename="big.tar"\r\nContent-Type: application/x-tar\r\n\r\n`,
  );
  const tar = pack();
  tar.on('data', (chunk) => {
    if (!req.write(chunk)) {
      tar.pause();
      req.once('drain', () => tar.resume());
    }
  });
  tar.on('end', () => req.end(`\r\n--${boundary}--\r\n`));
  const small = (name, content) =>
    new Promise((ok, fail) => tar.entry({ name, size: content.length }, content, (err) => (err ? fail(err) : ok())));
  (async () => {
    await small('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
    await small(path(sha(config)), config);
    const sink = tar.entry({ name: path(layerDigest), size });
    for (let n = 0; n < blocks; n++) {
      if (!sink.write(block(n))) await new Promise((ok) => sink.once('drain', ok));
    }
    await new Promise((ok, fail) => sink.end(null).once('finish', ok).once('error', fail));
    await small(path(sha(manifest)), manifest);
    await small('index.json', index);
    tar.finalize();
  })().catch(reject);
});
const seconds = (Date.now() - started) / 1000;
if (response.status !== 201) {
  console.log(`import answered ${response.status}: ${response.body}`);
  process.exit(1);
}

const back = createHash('sha256');
let length = 0;
await new Promise((resolve, reject) => {
  http
    .get({ host: base.hostname, port: base.port, path: `/v2/${repo}/blobs/${layerDigest}` }, (res) => {
      res.on('data', (c) => {
        back.update(c);
        length += c.length;
      });
      res.on('end', resolve).on('error', reject);
    })
    .on('error', reject);
});
const intact = `sha256:${back.digest('hex')}` === layerDigest && length === size;
const rss = treePeakRss(pid);
console.log(
  `imported a ${sizeMiB} MiB archive in ${seconds.toFixed(1)} s (${(Number(sizeMiB) / seconds).toFixed(0)} MiB/s); layer read back ${intact ? 'intact' : 'CORRUPT'}`,
);
console.log(`Berth peak RSS (VmHWM) per process: ${rss.perProcess.map((p) => `${p.pid}: ${p.mib.toFixed(0)}`).join(', ')} MiB`);
console.log(`Berth peak RSS (VmHWM) of the largest process: ${rss.max.toFixed(0)} MiB (limit ${limitMiB} MiB)`);
process.exit(intact && rss.max < Number(limitMiB) ? 0 : 1);
