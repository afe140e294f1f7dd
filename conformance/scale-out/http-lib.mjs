// What the scale-out clients share: plain node:http requests, every wait bounded.
import { createHash } from 'node:crypto';
import http from 'node:http';

export const MiB = 1024 * 1024;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const sha256 = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
export const fail = (msg) => {
  console.error(`${process.argv[1].split('/').pop()}: ${msg}`);
  process.exit(1);
};

/** One request; `body` is a Buffer, or a function (req) => Promise<void> that writes it. Resolves with status, headers, body. */
export function request(base, method, path, { headers = {}, body, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    if (typeof body === 'function') body(req).catch((err) => req.destroy(err));
    else req.end(body);
  });
}

export function expectStatus(res, status, what) {
  if (res.status !== status) fail(`${what}: expected ${status}, got ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
}
