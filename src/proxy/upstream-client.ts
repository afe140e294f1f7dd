import { UpstreamUnavailable } from './proxy-errors';
import type { ProxyUpstream } from './proxy-routes';
import { parseChallenge, type Challenge } from './www-authenticate';

/** How long an upstream may take to answer a manifest request, or to start a blob. */
const ANSWER_TIMEOUT_MS = 15_000;
/** A token without `expires_in` lives 60 s (the Docker token spec's default); renewed this much early. */
const DEFAULT_TOKEN_SECONDS = 60;
const TOKEN_MARGIN_MS = 5_000;

export type FetchFunction = typeof fetch;

/**
 * Requests to one upstream registry, as `repository:<name>:pull` allows: anonymous, Basic, or the
 * Docker token flow. The first answer's `WWW-Authenticate` challenge says which; a token is fetched
 * (with the configured credentials, if any) from the realm it names, and reused per scope until it
 * expires. Credentials are never part of an error or a log line: errors name the URL and the status.
 */
export class UpstreamClient {
  private readonly base: string;
  /** The scheme the upstream last challenged with; sent pre-emptively from then on. */
  private challenge: Challenge | null = null;
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();

  constructor(
    private readonly upstream: Pick<ProxyUpstream, 'url' | 'username' | 'password'>,
    private readonly fetchImpl: FetchFunction = fetch,
    private readonly now: () => number = Date.now,
  ) {
    this.base = upstream.url.replace(/\/$/, '');
  }

  /**
   * One request under `/v2/<remoteName>/…`, authenticated as the upstream asks. Any answer the upstream
   * gives comes back (callers judge 404s); one it cannot give (network, timeout) is UpstreamUnavailable.
   * `timeout: 'answer'` bounds only the wait for the status line, so a blob body may stream for longer.
   */
  async request(method: 'GET' | 'HEAD', remoteName: string, path: string, headers: Record<string, string>): Promise<Response> {
    const url = `${this.base}/v2/${remoteName}/${path}`;
    const scope = `repository:${remoteName}:pull`;
    let res = await this.send(method, url, { ...headers, ...(await this.authorization(scope, false)) });
    if (res.status === 401) {
      const challenge = parseChallenge(res.headers.get('www-authenticate'));
      await discard(res);
      if (!challenge) return res;
      this.challenge = challenge;
      const retry = await this.authorization(scope, true);
      if (Object.keys(retry).length === 0) return this.send(method, url, headers);
      res = await this.send(method, url, { ...headers, ...retry });
    }
    return res;
  }

  private async send(method: string, url: string, headers: Record<string, string>): Promise<Response> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), ANSWER_TIMEOUT_MS);
    try {
      return await this.fetchImpl(url, { method, headers, signal: controller.signal, redirect: 'follow' });
    } catch (err) {
      throw new UpstreamUnavailable({ url, reason: reasonOf(err) });
    } finally {
      clearTimeout(timer);
    }
  }

  /** The Authorization header for `scope` under the last challenge; `fresh` fetches a new token. */
  private async authorization(scope: string, fresh: boolean): Promise<Record<string, string>> {
    const challenge = this.challenge;
    if (!challenge) return {};
    if (challenge.scheme === 'basic') return this.basic() ? { Authorization: this.basic()! } : {};
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) return {};
    const cached = this.tokens.get(scope);
    if (!fresh && cached && cached.expiresAt > this.now()) return { Authorization: `Bearer ${cached.token}` };
    const token = await this.fetchToken(challenge, scope);
    return { Authorization: `Bearer ${token}` };
  }

  private async fetchToken(challenge: Challenge, scope: string): Promise<string> {
    const realm = new URL(challenge.params.realm!);
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    realm.searchParams.set('scope', scope);
    const basic = this.basic();
    const res = await this.send('GET', realm.toString(), basic ? { Authorization: basic } : {});
    if (!res.ok) {
      await discard(res);
      throw new UpstreamUnavailable({ url: `${realm.origin}${realm.pathname}`, status: res.status, reason: 'the token service refused' });
    }
    const body = (await res.json().catch(() => null)) as { token?: unknown; access_token?: unknown; expires_in?: unknown } | null;
    const token = typeof body?.token === 'string' ? body.token : typeof body?.access_token === 'string' ? body.access_token : null;
    if (!token) throw new UpstreamUnavailable({ url: `${realm.origin}${realm.pathname}`, reason: 'the token service answered no token' });
    const seconds = typeof body?.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS;
    this.tokens.set(scope, { token, expiresAt: this.now() + seconds * 1000 - TOKEN_MARGIN_MS });
    return token;
  }

  private basic(): string | null {
    const { username, password } = this.upstream;
    if (username === undefined || password === undefined) return null;
    return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }
}

/** Whether an upstream answer means "down for now" (stale content may stand in) rather than a real answer. */
export function isUnavailableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 401 || status === 403;
}

/** Frees an answer's connection when its body is not wanted. */
export async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // Already closed: nothing to free.
  }
}

function reasonOf(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } }).cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  return (err as Error).name === 'AbortError' ? 'timed out' : (err as Error).message;
}
