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
export function signature256(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * `sha1=<hex HMAC-SHA1 of the raw body>`: GitHub's older `X-Hub-Signature`, which GitHub still sends beside the
 * SHA-256 one for receivers written before it (CI servers' GitHub plugins among them).
 */
export function signature1(body: string, secret: string): string {
  return `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`;
}

/**
 * One POST to a checked hook URL: connects only to the checked addresses (its `lookup`), follows
 * no redirect (a 3xx is the answer), gives up after `timeoutMs` and reads at most BODY_LIMIT
 * bytes of the response. Never throws: a failure is a response with status code 0.
 */
export function postToHook(target: CheckedTarget, headers: Record<string, string>, body: Buffer, timeoutMs: number): Promise<HookResponse> {
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (response: HookResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(response);
    };
    const req = client.request(
      target.url,
      { method: 'POST', headers: { ...headers, 'Content-Length': String(body.length) }, lookup: target.lookup, agent: false },
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
          // Enough read: the rest of a large answer is not worth waiting for.
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
    req.on('error', (err: NodeJS.ErrnoException) => finish({ statusCode: 0, status: err.code ?? err.message, headers: {}, body: '' }));
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
