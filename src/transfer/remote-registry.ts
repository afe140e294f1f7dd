import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { DomainError } from '../domain-error';
import type { AddressGuard, CheckedTarget } from '../outbound/address-guard';

/** Another registry refused or failed a request of a promotion; the detail says which object and what it answered. */
export class RemoteRegistryFailed extends DomainError {}

/** Credentials for another registry, used for one request and never kept. */
export interface RemoteCredentials {
  username: string;
  password: string;
}

/** A manifest's place on another registry: `https://host[:port]/path/name:tag`. */
export interface RemoteReference {
  origin: string;
  repository: string;
  tag: string;
}

const REMOTE =
  /^(https?:\/\/[^/?#\s]+)\/([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*):([A-Za-z0-9_][A-Za-z0-9._-]{0,127})$/;

/** `https://host/path:tag` (or `http://` for a registry on plain HTTP), or null when it is not one. */
export function parseRemoteReference(text: string): RemoteReference | null {
  const m = REMOTE.exec(text);
  return m ? { origin: m[1] as string, repository: m[2] as string, tag: m[3] as string } : null;
}

/** Up to this much of an error answer is read, to quote its first error. */
const ERROR_BODY_LIMIT = 16 * 1024;
/** A request that sends or receives nothing for this long is abandoned. */
const IDLE_TIMEOUT_MS = 60_000;

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/**
 * The distribution API of another registry, as a pusher: blob existence, monolithic uploads streamed from a
 * reader, manifest puts. Authenticates as the registry asks (its `WWW-Authenticate` challenge: Docker token auth
 * with the given credentials, or Basic), and connects only to the addresses the SSRF guard checked; an upload
 * location on another origin is refused.
 */
export class RemoteRegistry {
  private authorization: string | undefined;
  private readonly origin: string;

  constructor(
    private readonly guard: AddressGuard,
    private readonly target: CheckedTarget,
    private readonly repository: string,
    private readonly credentials: RemoteCredentials | undefined,
  ) {
    this.origin = target.url.origin;
  }

  /** Whether the registry has the blob in the repository already (so it is not sent again). */
  async hasBlob(digest: string): Promise<boolean> {
    const answer = await this.send('HEAD', `/v2/${this.repository}/blobs/${digest}`, {});
    if (answer.status === 200) return true;
    if (answer.status === 404) return false;
    throw failure(`checking blob ${digest}`, answer);
  }

  /** Uploads a blob in one PUT (POST, then PUT with `?digest=`), its bytes streamed from `open`. */
  async putBlob(digest: string, size: number, open: () => Promise<Readable>): Promise<void> {
    const started = await this.send('POST', `/v2/${this.repository}/blobs/uploads/`, { 'Content-Length': '0' });
    if (started.status !== 202) throw failure(`starting the upload of blob ${digest}`, started);
    const location = this.sameOrigin(started.headers.location, `the upload of blob ${digest}`);
    location.searchParams.set('digest', digest);
    const headers = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) };
    const put = await this.send('PUT', location.pathname + location.search, headers, open);
    if (put.status !== 201) throw failure(`uploading blob ${digest}`, put);
  }

  async putManifest(reference: string, content: Buffer, mediaType: string): Promise<void> {
    const headers = { 'Content-Type': mediaType, 'Content-Length': String(content.length) };
    const answer = await this.send('PUT', `/v2/${this.repository}/manifests/${reference}`, headers, () => Promise.resolve(content));
    if (answer.status !== 201) throw failure(`putting manifest ${reference}`, answer);
  }

  /** One request; on a 401 it authenticates as the challenge says and sends it once more (the body reopened). */
  private async send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: () => Promise<Readable | Buffer>,
  ): Promise<Answer> {
    const first = await this.request(method, path, headers, body);
    if (first.status !== 401) return first;
    await this.authenticate(first.headers['www-authenticate']);
    return this.request(method, path, headers, body);
  }

  private async authenticate(challenge: string | undefined): Promise<void> {
    const basic = this.credentials
      ? `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`
      : undefined;
    if (challenge && /^bearer\s/i.test(challenge)) {
      const params = challengeParams(challenge);
      if (!params.realm) throw new RemoteRegistryFailed('the target registry asked for a token without saying where to get one');
      // A token service may live on another host (Docker Hub's does): the guard checks it as it checked the registry.
      const realm = await this.guard.check(new URL(params.realm, this.origin).href);
      if (params.service) realm.url.searchParams.set('service', params.service);
      realm.url.searchParams.set('scope', `repository:${this.repository}:pull,push`);
      const answer = await this.request(
        'GET',
        realm.url.pathname + realm.url.search,
        basic ? { Authorization: basic } : {},
        undefined,
        realm,
      );
      if (answer.status !== 200) throw failure('getting a token', answer);
      let token: unknown;
      try {
        const parsed = JSON.parse(answer.body) as { token?: unknown; access_token?: unknown };
        token = parsed.token ?? parsed.access_token;
      } catch {
        token = undefined;
      }
      if (typeof token !== 'string' || token === '') throw new RemoteRegistryFailed('the target registry token service sent no token');
      this.authorization = `Bearer ${token}`;
      return;
    }
    if (!basic) throw new RemoteRegistryFailed('the target registry asks for credentials; none were given');
    this.authorization = basic;
  }

  /** An upload location the registry named, on its own origin (never followed elsewhere: the guard checked this one). */
  private sameOrigin(raw: string | undefined, what: string): URL {
    if (!raw) throw new RemoteRegistryFailed(`the target registry named no location for ${what}`);
    const url = new URL(raw, this.origin);
    if (url.origin !== this.origin) {
      throw new RemoteRegistryFailed(
        `the target registry sent ${what} to another host (${url.origin}); Berth only sends it to ${this.origin}`,
      );
    }
    return url;
  }

  private async request(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: () => Promise<Readable | Buffer>,
    to: CheckedTarget = this.target,
  ): Promise<Answer> {
    const payload = body ? await body() : undefined;
    const at = to.url;
    const client = at.protocol === 'https:' ? https : http;
    const auth = this.authorization && !('Authorization' in headers) ? { Authorization: this.authorization } : {};
    return new Promise<Answer>((resolve, reject) => {
      const req = client.request(
        {
          method,
          host: at.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: at.port || undefined,
          path,
          headers: { 'User-Agent': 'Berth-promotion', ...auth, ...headers },
          lookup: to.lookup,
          timeout: IDLE_TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            if (size < ERROR_BODY_LIMIT) chunks.push(chunk);
            size += chunk.length;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${IDLE_TIMEOUT_MS / 1000} s`)));
      req.on('error', (err) => reject(new RemoteRegistryFailed(`${at.origin} could not be reached: ${err.message}`)));
      if (payload === undefined || Buffer.isBuffer(payload)) req.end(payload);
      else {
        payload.on('error', (err) => req.destroy(err));
        payload.pipe(req);
      }
    });
  }
}

/** `Bearer realm="…",service="…",scope="…"` into its parameters. */
function challengeParams(challenge: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const m of challenge.replace(/^\S+\s+/, '').matchAll(/([a-zA-Z_]+)="([^"]*)"/g))
    params[(m[1] as string).toLowerCase()] = m[2] as string;
  return params;
}

/** What the registry answered, for the caller: the status and its first OCI error when it sent one. */
function failure(what: string, answer: Answer): RemoteRegistryFailed {
  let reason = '';
  try {
    const first = (JSON.parse(answer.body) as { errors?: Array<{ code?: unknown; message?: unknown }> }).errors?.[0];
    const text = (v: unknown) => (typeof v === 'string' ? v : '');
    if (first) reason = ` ${text(first.code)}: ${text(first.message)}`.trimEnd();
  } catch {
    // not error JSON: the status says enough
  }
  return new RemoteRegistryFailed(`the target registry refused ${what}: ${answer.status}${reason}`);
}
