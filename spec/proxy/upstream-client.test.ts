import { UpstreamUnavailable } from '../../src/proxy/proxy-errors';
import { UpstreamClient, type FetchFunction } from '../../src/proxy/upstream-client';

/** A fake upstream: answers by a function of the request, and records each one with its Authorization. */
function fakeFetch(answer: (url: URL, auth: string | null) => Response) {
  const seen: Array<{ url: string; auth: string | null }> = [];
  const fn = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const auth = new Headers(init?.headers).get('authorization');
    seen.push({ url: `${url.pathname}${url.search}`, auth });
    return answer(url, auth);
  }) as FetchFunction;
  return { fn, seen };
}

const basicHeader = `Basic ${Buffer.from('me:secret-password').toString('base64')}`;
const credentials = { url: 'http://upstream.test', username: 'me', password: 'secret-password' };

describe('UpstreamClient', () => {
  it('answers a Basic challenge with the credentials, then sends them up front', async () => {
    const f = fakeFetch((_url, auth) =>
      auth === basicHeader
        ? new Response('{}', { status: 200 })
        : new Response(null, { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="r"' } }),
    );
    const client = new UpstreamClient(credentials, f.fn);
    expect((await client.request('GET', 'lib/a', 'manifests/v1', {})).status).toBe(200);
    expect((await client.request('GET', 'lib/a', 'manifests/v2', {})).status).toBe(200);
    expect(f.seen.map((s) => s.auth)).toEqual([null, basicHeader, basicHeader]);
  });

  it('follows the token flow, reuses a token per scope until it expires', async () => {
    let now = 1_000_000;
    let issued = 0;
    const f = fakeFetch((url, auth) => {
      if (url.pathname === '/token') {
        expect(auth).toBe(basicHeader);
        expect(url.searchParams.get('service')).toBe('reg');
        issued += 1;
        return Response.json({ token: `t${issued}:${url.searchParams.get('scope')}`, expires_in: 60 });
      }
      if (auth?.startsWith('Bearer t') && auth.endsWith(`repository:${url.pathname.split('/').slice(2, 4).join('/')}:pull`)) {
        return new Response('{}', { status: 200 });
      }
      return new Response(null, {
        status: 401,
        headers: { 'WWW-Authenticate': 'Bearer realm="http://upstream.test/token",service="reg",scope="repository:x:pull"' },
      });
    });
    const client = new UpstreamClient(credentials, f.fn, () => now);
    for (let i = 0; i < 3; i++) expect((await client.request('GET', 'lib/a', 'manifests/v1', {})).status).toBe(200);
    expect(issued).toBe(1);
    expect((await client.request('GET', 'lib/b', 'manifests/v1', {})).status).toBe(200);
    expect(issued).toBe(2);
    now += 61_000;
    expect((await client.request('GET', 'lib/a', 'manifests/v1', {})).status).toBe(200);
    expect(issued).toBe(3);
  });

  it('a refused token is UpstreamUnavailable, and no error carries the credentials', async () => {
    const f = fakeFetch((url) =>
      url.pathname === '/token'
        ? new Response('{"details":"bad credentials"}', { status: 401 })
        : new Response(null, { status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="http://upstream.test/token",service="reg"' } }),
    );
    const client = new UpstreamClient(credentials, f.fn);
    const err = await client.request('GET', 'lib/a', 'manifests/v1', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamUnavailable);
    expect(JSON.stringify((err as UpstreamUnavailable).detail) + (err as Error).message).not.toMatch(/secret-password|bWU6c2VjcmV0/);
  });

  it('an unreachable upstream is UpstreamUnavailable naming the URL, not the credentials', async () => {
    const client = new UpstreamClient({ ...credentials, url: 'http://127.0.0.1:1' });
    const err = await client.request('HEAD', 'lib/a', 'manifests/v1', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamUnavailable);
    expect((err as Error).message).toContain('http://127.0.0.1:1/v2/lib/a/manifests/v1');
    expect((err as Error).message).not.toContain('secret-password');
  });
});
