// A small registry client on node:http: exact bytes and headers in both directions (no implicit
// Accept / Accept-Encoding / decompression as with fetch), streaming request bodies, and failure
// messages that show the exact request and response.
import http from 'node:http';
import { createHash } from 'node:crypto';
import { sha256 } from './data';

export type Body = Buffer | string | AsyncIterable<Buffer>;

export interface RequestOptions {
  headers?: Record<string, string | number>;
  body?: Body;
  /** Query parameters to add to the URL (after those already in it, e.g. from a Location). */
  query?: Record<string, string>;
}

export interface Reply {
  method: string;
  url: string;
  requestHeaders: Record<string, string | number>;
  requestBodyLength: number | 'stream';
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One header value (multiple values joined with ", "), or undefined. */
export function header(r: Reply, name: string): string | undefined {
  const v = r.headers[name.toLowerCase()];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(', ') : String(v);
}

/** A printable transcript of one exchange, for failure messages and bug reports. */
export function show(r: Reply): string {
  const reqH = Object.entries(r.requestHeaders)
    .map(([k, v]) => `  ${k}: ${v}`)
    .join('\n');
  const resH = Object.entries(r.headers)
    .map(([k, v]) => `  ${k}: ${Array.isArray(v) ? v.join(', ') : v}`)
    .join('\n');
  const bodyLen = r.requestBodyLength === 'stream' ? 'streamed' : `${r.requestBodyLength} bytes`;
  let text = r.body.toString('utf8');
  if (text.length > 1500) text = `${text.slice(0, 1500)}… (${r.body.length} bytes)`;
  // eslint-disable-next-line no-control-regex -- control characters are what mark a body as binary
  if (/[\x00-\x08\x0e-\x1f]/.test(text)) text = `<${r.body.length} binary bytes>`;
  return `${r.method} ${r.url}\n${reqH}\n  (body: ${bodyLen})\n-> ${r.status}\n${resH}\n${text}`;
}

export class ReplyError extends Error {}

/** Throws with the full transcript unless the status is one of `statuses`. */
export function expectStatus(r: Reply, ...statuses: number[]): void {
  if (!statuses.includes(r.status)) {
    throw new ReplyError(`expected HTTP ${statuses.join(' or ')}, got ${r.status}\n${show(r)}`);
  }
}

/** Throws with the full transcript unless `cond` holds. */
export function check(r: Reply, cond: boolean, what: string): void {
  if (!cond) throw new ReplyError(`${what}\n${show(r)}`);
}

export interface OciErrorEntry {
  code: string;
  message?: unknown;
  detail?: unknown;
}

/**
 * Asserts that `r` has the given status and an OCI error body
 * {"errors":[{"code","message","detail"}, ...]} in which one entry has one of `codes`
 * (when `codes` is empty: any well-formed code). Returns the entries.
 */
export function expectOciError(r: Reply, status: number | number[], codes: string[]): OciErrorEntry[] {
  const statuses = Array.isArray(status) ? status : [status];
  expectStatus(r, ...statuses);
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.body.toString('utf8'));
  } catch {
    throw new ReplyError(`error body is not JSON\n${show(r)}`);
  }
  const errors = (parsed as { errors?: unknown }).errors;
  check(r, Array.isArray(errors) && errors.length > 0, 'error body has no non-empty "errors" array');
  for (const e of errors as OciErrorEntry[]) {
    check(r, typeof e === 'object' && e !== null, 'errors[] entry is not an object');
    check(r, typeof e.code === 'string' && /^[A-Z_]+$/.test(e.code), `errors[] entry has no valid "code": ${JSON.stringify(e)}`);
    check(r, e.message === undefined || typeof e.message === 'string', `errors[] "message" is not a string: ${JSON.stringify(e)}`);
  }
  const got = (errors as OciErrorEntry[]).map((e) => e.code);
  if (codes.length > 0) {
    check(
      r,
      got.some((c) => codes.includes(c)),
      `expected error code ${codes.join(' or ')}, got ${got.join(', ')}`,
    );
  }
  return errors as OciErrorEntry[];
}

/** Parses an upload-progress `Range` header: "0-<end>" (OCI) → end (inclusive), -1 for "0-0" on an empty upload is ambiguous, so the raw end is returned. */
export function parseUploadRange(r: Reply): number {
  const v = header(r, 'range');
  check(r, v !== undefined, 'missing Range header');
  const m = /^(?:bytes=)?0-(\d+)$/.exec(v!.trim());
  check(r, m !== null, `Range header is not "0-<end>": ${JSON.stringify(v)}`);
  return Number(m![1]);
}

export class Client {
  readonly base: URL;
  private agent: http.Agent;

  constructor(base: string) {
    this.base = new URL(base);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  }

  /** Drops pooled connections (e.g. after the server was killed and restarted). */
  resetConnections(): void {
    this.agent.destroy();
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  }

  close(): void {
    this.agent.destroy();
  }

  resolve(pathOrUrl: string, query?: Record<string, string>): URL {
    const u = new URL(pathOrUrl, this.base);
    for (const [k, v] of Object.entries(query ?? {})) u.searchParams.append(k, v);
    return u;
  }

  /** Sends one request and buffers the whole response. */
  request(method: string, pathOrUrl: string, opts: RequestOptions = {}): Promise<Reply> {
    const url = this.resolve(pathOrUrl, opts.query);
    const headers: Record<string, string | number> = { ...(opts.headers ?? {}) };
    const body = opts.body;
    let bodyLength: number | 'stream' = 0;
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      bodyLength = Buffer.byteLength(body);
      if (!hasHeader(headers, 'content-length') && !hasHeader(headers, 'transfer-encoding')) headers['Content-Length'] = bodyLength;
    } else if (body !== undefined) {
      bodyLength = 'stream';
    } else if (['POST', 'PUT', 'PATCH'].includes(method) && !hasHeader(headers, 'content-length')) {
      headers['Content-Length'] = 0;
    }
    return new Promise<Reply>((resolve, reject) => {
      let responded = false;
      const req = http.request(url, { method, headers, agent: this.agent }, (res) => {
        responded = true;
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('error', (err) =>
          reject(
            new Error(
              `${method} ${String(url)}: response ${res.statusCode} broke off after ${parts.reduce((n, p) => n + p.length, 0)} body bytes (${err.message}); ` +
                `headers ${JSON.stringify(res.headers)}`,
            ),
          ),
        );
        res.on('end', () => {
          // Answered before the whole body was sent: this connection cannot be reused.
          if (!req.writableEnded) req.destroy();
          resolve({
            method,
            url: url.toString(),
            requestHeaders: headers,
            requestBodyLength: bodyLength,
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(parts),
          });
        });
      });
      req.on('error', (err) => {
        // A server may answer early (e.g. 413) and close while the body is still being sent;
        // the response, if it arrived, is what counts.
        if (!responded) reject(new Error(`${method} ${String(url)}: ${err.message}`));
      });
      if (body === undefined) {
        req.end();
      } else if (typeof body === 'string' || Buffer.isBuffer(body)) {
        req.end(body);
      } else {
        void (async () => {
          try {
            for await (const chunk of body) {
              if (responded || req.destroyed) return;
              if (!req.write(chunk)) await drainOrClose(req);
            }
            if (!req.destroyed) req.end();
          } catch (err) {
            req.destroy(err as Error);
          }
        })();
      }
    });
  }

  get(path: string, headers?: Record<string, string>): Promise<Reply> {
    return this.request('GET', path, { headers });
  }

  head(path: string, headers?: Record<string, string>): Promise<Reply> {
    return this.request('HEAD', path, { headers });
  }

  /** POST /v2/<repo>/blobs/uploads/ → absolute upload URL (asserts 202 + Location). */
  async startUpload(repo: string): Promise<{ location: string; reply: Reply }> {
    const r = await this.request('POST', `/v2/${repo}/blobs/uploads/`);
    expectStatus(r, 202);
    const loc = header(r, 'location');
    check(r, !!loc, 'upload start: missing Location');
    return { location: this.resolve(loc!).toString(), reply: r };
  }

  /** Monolithic POST + PUT upload of a small blob; returns its digest (asserts 201). */
  async pushBlob(repo: string, data: Buffer): Promise<string> {
    const digest = sha256(data);
    const { location } = await this.startUpload(repo);
    const r = await this.request('PUT', location, {
      query: { digest },
      headers: { 'Content-Type': 'application/octet-stream' },
      body: data,
    });
    expectStatus(r, 201);
    return digest;
  }

  /** PUT a manifest with the given Content-Type (no assertion). */
  putManifest(repo: string, reference: string, bytes: Buffer | string, contentType: string): Promise<Reply> {
    return this.request('PUT', `/v2/${repo}/manifests/${reference}`, {
      headers: { 'Content-Type': contentType },
      body: bytes,
    });
  }

  /** GET a blob and hash the body while it streams (nothing buffered). */
  blobDigest(repo: string, digest: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; size: number; digest: string }> {
    const url = this.resolve(`/v2/${repo}/blobs/${digest}`);
    return new Promise((resolve, reject) => {
      const req = http.get(url, { agent: this.agent }, (res) => {
        const h = createHash('sha256');
        let size = 0;
        res.on('data', (c: Buffer) => {
          h.update(c);
          size += c.length;
        });
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, size, digest: `sha256:${h.digest('hex')}` }));
      });
      req.on('error', reject);
    });
  }
}

/** Resolves when a writable can take more data, or is gone. */
export function drainOrClose(w: http.ClientRequest): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      w.off('drain', done);
      w.off('close', done);
      resolve();
    };
    w.on('drain', done);
    w.on('close', done);
  });
}

function hasHeader(h: Record<string, unknown>, name: string): boolean {
  return Object.keys(h).some((k) => k.toLowerCase() === name);
}

export const MT = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** Parses `Link: <url>; rel="next"` → the next URL (absolute, resolved against `base`), or undefined. */
export function nextLink(r: Reply, base: URL): string | undefined {
  const v = header(r, 'link');
  if (v === undefined) return undefined;
  const m = /<([^>]*)>\s*;\s*rel="?next"?/i.exec(v);
  check(r, m !== null, `Link header is not RFC 5988 '<url>; rel="next"': ${JSON.stringify(v)}`);
  return new URL(m![1]!, base).toString();
}
