// The growth benchmark's measurement: HTTP requests to the running server, one at a time, each timed
// from the request's start to its body's end. One at a time because the figure is latency as the
// registry grows, not throughput; the load generator shares the 2 cores with the server.
import http from 'node:http';

/**
 * Sends `count` requests (`make(i)` gives each one), after `warmup` uncounted ones, and returns their
 * latencies in ms. `keepAlive`: one reused connection; else a new TCP connection per request
 * (`Connection: close`), as a CI job's curl opens.
 */
export async function sample(base, { count, warmup, keepAlive, make }) {
  const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : false;
  const times = [];
  try {
    for (let i = 0; i < warmup + count; i++) {
      const spec = make(i);
      const started = process.hrtime.bigint();
      const res = await send(base, spec, agent);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (res.status !== spec.expect) {
        throw new Error(`${spec.method} ${spec.path}: ${res.status}, expected ${spec.expect}: ${res.body.slice(0, 300)}`);
      }
      spec.check?.(res.body);
      if (i >= warmup) times.push(ms);
    }
  } finally {
    if (agent) agent.destroy();
  }
  return times;
}

function send(base, { method, path, headers = {}, body }, agent) {
  return new Promise((resolve, reject) => {
    const all = { ...headers, ...(agent ? {} : { connection: 'close' }) };
    if (body) all['content-length'] = body.length;
    const req = http.request(`${base}${path}`, { method, headers: all, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The p-th percentile (nearest rank) of `values`. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
