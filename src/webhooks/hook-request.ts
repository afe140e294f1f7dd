import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { CheckedTarget } from '../outbound/address-guard';

/** Request and response bodies are logged, and responses read, up to this many bytes. */
export const BODY_LIMIT = 64 * 1024;

export interface HookResponse {
  /** 0 when no response came. */
  statusCode: number;
  status: string;
  headers: Record<string, string>;
  body: string;
  /** Seconds the receiver asked to wait (Retry-After), when it said. */
  retryAfterSeconds?: number;
}

/** `sha256=<hex HMAC-SHA256 of the raw body>`: GitHub's `X-Hub-Signature-256`. */
export function signature256(body: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * `sha1=<hex HMAC-SHA1 of the raw body>`: GitHub's older `X-Hub-Signature`, which GitHub still sends beside the
 * SHA-256 one for receivers written before it (CI servers' GitHub plugins among them).
 */
export function signature1(body: Buffer | string, secret: string): string {
  return `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`;
}

/**
 * A free connection is closed after this long unused: below the 5 s a Node receiver keeps one open by default (a
 * receiver's shorter `Keep-Alive: timeout` wins), so that a reused connection is rarely one the receiver is closing.
 */
const IDLE_CONNECTION_MS = 4_000;

/**
 * The connections of one process's deliveries, kept open between them. Hooks at one receiver (three in the webhook
 * bench, every repository's hook at one CI server in practice) get a stream of requests; a connection each cost the
 * worker and the receiver a TCP handshake and teardown per attempt. Connections are pooled by host and port, each
 * made to an address the guard checked (the `lookup` of the request that opened it).
 */
export class HookConnections {
  private readonly http = new http.Agent({ keepAlive: true, timeout: IDLE_CONNECTION_MS, scheduling: 'lifo' });
  private readonly https = new https.Agent({ keepAlive: true, timeout: IDLE_CONNECTION_MS, scheduling: 'lifo' });

  agentFor(url: URL): http.Agent {
    return url.protocol === 'https:' ? this.https : this.http;
  }

  /** Closes every connection, free or not (after the attempts in flight ended). */
  destroy(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

/**
 * One POST to a checked hook URL: connects only to the checked addresses (its `lookup`), follows
 * no redirect (a 3xx is the answer), gives up after `timeoutMs` and reads at most BODY_LIMIT
 * bytes of the response. Never throws: a failure is a response with status code 0. A kept-alive connection the
 * receiver closed as the request went out (reset before any answer) is retried once on a new one: the receiver saw
 * nothing of it.
 */
export async function postToHook(
  target: CheckedTarget,
  headers: Record<string, string>,
  body: Buffer,
  timeoutMs: number,
  connections: HookConnections,
): Promise<HookResponse> {
  const deadline = Date.now() + timeoutMs;
  const first = await postOnce(target, headers, body, timeoutMs, connections.agentFor(target.url));
  if (!('closedBeforeAnswer' in first)) return first;
  const second = await postOnce(target, headers, body, Math.max(1, deadline - Date.now()), connections.agentFor(target.url));
  return 'closedBeforeAnswer' in second ? second.response : second;
}

/** An error on a reused connection before the response began: the receiver had closed it. */
interface ClosedBeforeAnswer {
  closedBeforeAnswer: true;
  response: HookResponse;
}

function postOnce(
  target: CheckedTarget,
  headers: Record<string, string>,
  body: Buffer,
  timeoutMs: number,
  agent: http.Agent,
): Promise<HookResponse | ClosedBeforeAnswer> {
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (response: HookResponse | ClosedBeforeAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(response);
    };
    const req = client.request(
      target.url,
      { method: 'POST', headers: { ...headers, 'Content-Length': String(body.length) }, lookup: target.lookup, agent },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () =>
          finish({
            statusCode: res.statusCode ?? 0,
            status: res.statusMessage || String(res.statusCode),
            headers: flatHeaders(res.headers),
            body: Buffer.concat(chunks).subarray(0, BODY_LIMIT).toString('utf8'),
            retryAfterSeconds: retryAfter(res.headers['retry-after']),
          });
        res.on('data', (chunk: Buffer) => {
          if (size >= BODY_LIMIT) return;
          chunks.push(chunk);
          size += chunk.length;
          // Enough read: the rest of a large answer is not worth waiting for (nor is its connection worth keeping).
          if (size >= BODY_LIMIT) {
            done();
            res.destroy();
          }
        });
        res.on('end', done);
        res.on('error', done);
        res.on('close', done);
      },
    );
    const timer = setTimeout(() => {
      finish({ statusCode: 0, status: `timed out after ${timeoutMs} ms`, headers: {}, body: '' });
      req.destroy();
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      const response = { statusCode: 0, status: err.code ?? err.message, headers: {}, body: '' };
      const closed = req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
      finish(closed ? { closedBeforeAnswer: true, response } : response);
    });
    req.end(body);
  });
}

function flatHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/** Retry-After in seconds: a number of seconds or an HTTP date. */
function retryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d{1,9}$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}
