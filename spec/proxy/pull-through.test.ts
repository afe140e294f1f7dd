import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createRegistry, type Registry } from '../../src/composition-root';
import type { Config } from '../../src/config';
import { createLogger } from '../../src/log';
import { MediaType } from '../../src/oci/media-types';
import { addUser, basic, startAuthRegistry, type AuthTestRegistry } from '../auth/support/auth-registry';
import { manifestFor, postBlob, putManifest, seedPackage } from '../auth/support/registry-ops';
import { binary, expectOciError } from '../support/http';
import { blob, descriptor, imageManifest, serialize, sha256, EMPTY_CONFIG } from '../support/oci';
import { startTestRegistry, type TestRegistry } from '../support/registry';
import { startCountingUpstream, type CountingUpstream } from './upstream-server';

/**
 * The pull-through cache (issue #21) against a second Berth with token auth as the upstream: alice's
 * private package is reachable only with her credentials, through the upstream's token flow.
 */
const alice = basic('alice', 'alice-password');
let upstream: AuthTestRegistry;
let server: CountingUpstream;
let liar: http.Server;
let cache: TestRegistry;
const big = blob(randomBytes(4 * 1024 * 1024));

type ProxyConfig = Config['proxies'][number];

beforeAll(async () => {
  upstream = await startAuthRegistry();
  await addUser(upstream.identities, 'alice');
  await seedPackage(upstream.http, alice, 'alice/app', 'v1');
  // A package with one large layer, for concurrent pulls.
  expect((await postBlob(upstream.http, alice, 'alice/big', big)).status).toBe(201);
  expect((await postBlob(upstream.http, alice, 'alice/big', EMPTY_CONFIG)).status).toBe(201);
  const bigManifest = serialize(
    imageManifest({
      config: descriptor(EMPTY_CONFIG, MediaType.OCI_EMPTY),
      layers: [descriptor(big, 'application/vnd.oci.image.layer.v1.tar')],
    }),
  );
  expect((await putManifest(upstream.http, alice, 'alice/big', 'v1', bigManifest.content)).status).toBe(201);
  server = await startCountingUpstream(upstream.registry.app);
  liar = await startLiar();
  const upstreamOf = (prefix: string, extra: Partial<ProxyConfig> = {}): ProxyConfig => ({
    prefix,
    url: server.url,
    username: 'alice',
    password: 'alice-password',
    tagTtlSeconds: 3600,
    access: 'signed-in',
    ...extra,
  });
  cache = await startTestRegistry({
    proxies: [
      upstreamOf('up'),
      upstreamOf('fresh', { tagTtlSeconds: 0 }),
      upstreamOf('nocreds', { username: undefined, password: undefined }),
      { ...upstreamOf('liar'), url: `http://127.0.0.1:${(liar.address() as AddressInfo).port}` },
    ],
  });
}, 60_000);

afterAll(async () => {
  await cache?.close();
  await server?.stop();
  await new Promise((resolve) => liar?.close(resolve));
  await upstream?.close();
});

const manifestAccept = [MediaType.OCI_MANIFEST, MediaType.OCI_INDEX, MediaType.DOCKER_MANIFEST].join(', ');
const pullManifest = (name: string, reference: string) =>
  cache.http.get(`/v2/${name}/manifests/${reference}`).set('Accept', manifestAccept);
const pullBlob = (agent: ReturnType<typeof request>, name: string, digest: string) =>
  agent.get(`/v2/${name}/blobs/${digest}`).buffer(true).parse(binary);

describe('pull-through cache: manifests', () => {
  it('pulls a tag through the upstream token flow, then serves it from the cache within the TTL', async () => {
    const direct = await upstream.http.get('/v2/alice/app/manifests/v1').set('Authorization', alice).set('Accept', manifestAccept);
    expect(direct.status).toBe(200);
    const first = await pullManifest('up/alice/app', 'v1');
    expect(first.status).toBe(200);
    expect(first.headers['docker-content-digest']).toBe(direct.headers['docker-content-digest']);
    expect(server.count('GET', '/token')).toBeGreaterThanOrEqual(1);
    const before = server.seen.length;
    const again = await pullManifest('up/alice/app', 'v1');
    expect(again.status).toBe(200);
    expect(again.headers['docker-content-digest']).toBe(direct.headers['docker-content-digest']);
    // Within the TTL nothing is asked upstream, not even a HEAD.
    expect(server.seen.length).toBe(before);
  });

  it('a cached tag deleted from the cache is fetched again on the next pull, TTL or not', async () => {
    expect((await pullManifest('up/alice/app', 'v1')).status).toBe(200);
    expect((await cache.http.delete('/v2/up/alice/app/manifests/v1')).status).toBe(202);
    const heads = server.count('HEAD', '/alice/app/manifests/v1');
    const again = await pullManifest('up/alice/app', 'v1');
    expect(again.status).toBe(200);
    // Revalidated upstream; the manifest itself is still cached by digest, so only the tag is set again.
    expect(server.count('HEAD', '/alice/app/manifests/v1')).toBe(heads + 1);
  });

  it('without the credentials the upstream refuses, and the cache says so (502), caching nothing', async () => {
    const res = await pullManifest('nocreds/alice/app', 'v1');
    expectOciError(res, 502, 'UNAVAILABLE');
    expect(JSON.stringify(res.body)).not.toContain('alice-password');
  });

  it('a tag unknown upstream is MANIFEST_UNKNOWN', async () => {
    expectOciError(await pullManifest('up/alice/app', 'nope'), 404, 'MANIFEST_UNKNOWN');
  });

  it('revalidates a tag after its TTL with a HEAD, following a tag that moved upstream', async () => {
    const first = await pullManifest('fresh/alice/app', 'v1');
    expect(first.status).toBe(200);
    const heads = server.count('HEAD', '/manifests/v1');
    const gets = server.count('GET', '/manifests/v1');
    expect((await pullManifest('fresh/alice/app', 'v1')).status).toBe(200);
    expect(server.count('HEAD', '/manifests/v1')).toBe(heads + 1);
    expect(server.count('GET', '/manifests/v1')).toBe(gets);
    // The tag moves upstream: the next pull serves the new manifest.
    const moved = manifestFor(
      { config: blob(JSON.stringify({ architecture: 'amd64', os: 'linux', name: 'alice/app' })), layer: blob('layer of alice/app') },
      'moved',
    );
    expect((await putManifest(upstream.http, alice, 'alice/app', 'v1', moved.content)).status).toBe(201);
    const after = await pullManifest('fresh/alice/app', 'v1');
    expect(after.status).toBe(200);
    expect(after.headers['docker-content-digest']).toBe(moved.digest);
  });

  it('refuses pushes into a proxy prefix with one clear error', async () => {
    const res = await cache.http.post('/v2/up/alice/app/blobs/uploads/');
    expectOciError(res, 403, 'DENIED');
    expect(res.body.errors[0].detail).toContain('pull-through cache');
    const put = await cache.http.put('/v2/up/alice/app/manifests/v2').set('Content-Type', MediaType.OCI_MANIFEST).send('{}');
    expectOciError(put, 403, 'DENIED');
  });
});

describe('pull-through cache: blobs', () => {
  it('streams an uncached blob from the upstream, then serves it from storage', async () => {
    const m = await pullManifest('up/alice/big', 'v1');
    expect(m.status).toBe(200);
    const res = await pullBlob(cache.http, 'up/alice/big', big.digest);
    expect(res.status).toBe(200);
    expect(sha256(res.body as Buffer)).toBe(big.digest);
    expect(res.headers['content-length']).toBe(String(big.content.length));
    const gets = server.count('GET', `/blobs/${big.digest}`);
    expect(gets).toBe(1);
    const again = await pullBlob(cache.http, 'up/alice/big', big.digest);
    expect(sha256(again.body as Buffer)).toBe(big.digest);
    expect(server.count('GET', `/blobs/${big.digest}`)).toBe(1);
    const head = await cache.http.head(`/v2/up/alice/big/blobs/${big.digest}`);
    expect(head.status).toBe(200);
  });

  it('32 concurrent pulls of one uncached blob fetch it upstream once', async () => {
    const name = 'fresh/alice/big';
    const before = server.count('GET', `/blobs/${big.digest}`);
    const results = await Promise.all(Array.from({ length: 32 }, () => pullBlob(cache.http, name, big.digest)));
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(sha256(r.body as Buffer)).toBe(big.digest);
    }
    expect(server.count('GET', `/blobs/${big.digest}`) - before).toBe(1);
  });

  it('two replicas on one database and storage fetch a blob once (the lease), 16 pulls each', async () => {
    let second: Registry | undefined;
    try {
      second = await createRegistry(cache.config, createLogger('silent'));
      const agents = [cache.http, request(second.app)];
      const config = blob(JSON.stringify({ architecture: 'amd64', os: 'linux', name: 'alice/app' }));
      const before = server.countAnswered('GET', `/blobs/${config.digest}`, 200);
      const results = await Promise.all(Array.from({ length: 32 }, (_, i) => pullBlob(agents[i % 2]!, 'fresh/alice/app', config.digest)));
      for (const r of results) expect(sha256(r.body as Buffer)).toBe(config.digest);
      // Fetched once: a GET answered with the bytes. The new replica has no upstream token yet, so when its fetch
      // wins the lease, the token flow's 401 challenge comes first (a CI run counted it as a second fetch).
      expect(server.countAnswered('GET', `/blobs/${config.digest}`, 200) - before).toBe(1);
    } finally {
      await second?.close();
    }
  });

  it('bytes that do not match their digest abort the client stream and are not kept', async () => {
    const digest = sha256('the real content');
    const res = await new Promise<{ status: number; complete: boolean }>((resolve) => {
      const req = request(cache.registry.app).get(`/v2/liar/x/blobs/${digest}`).buffer(true).parse(binary);
      req.then(
        (r) => resolve({ status: r.status, complete: true }),
        () => resolve({ status: 0, complete: false }),
      );
    });
    expect(res.complete).toBe(false);
    const after = await cache.http.head(`/v2/liar/x/blobs/${digest}`);
    // Not linked: the HEAD fetches again (and fails again), never answers 200.
    expect(after.status).toBe(502);
  });

  it('counts hits, misses and upstream bytes in /metrics', async () => {
    const text = (await cache.http.get('/metrics')).text;
    expect(text).toMatch(/berth_proxy_pulls_total\{kind="blob",result="hit"\} [1-9]/);
    expect(text).toMatch(/berth_proxy_pulls_total\{kind="blob",result="miss"\} [1-9]/);
    expect(text).toMatch(/berth_proxy_pulls_total\{kind="manifest",result="miss"\} [1-9]/);
    const bytes = Number(/berth_proxy_upstream_bytes_total (\d+)/.exec(text)?.[1]);
    expect(bytes).toBeGreaterThanOrEqual(2 * big.content.length);
  });
});

describe('pull-through cache: upstream down', () => {
  it('serves cached tags stale; what was never cached is UNAVAILABLE', async () => {
    expect((await pullManifest('fresh/alice/app', 'v1')).status).toBe(200);
    await server.stop();
    try {
      const stale = await pullManifest('fresh/alice/app', 'v1');
      expect(stale.status).toBe(200);
      const blobRes = await pullBlob(cache.http, 'up/alice/big', big.digest);
      expect(sha256(blobRes.body as Buffer)).toBe(big.digest);
      expectOciError(await pullManifest('fresh/alice/other', 'v1'), 502, 'UNAVAILABLE');
    } finally {
      await server.resume();
    }
  });
});

/** An upstream that answers every blob GET with bytes that are not the digest asked for. */
function startLiar(): Promise<http.Server> {
  const lie = Buffer.from('not the real content, but as long as it');
  const s = http.createServer((req, res) => {
    if (req.url === '/v2/') return void res.writeHead(200).end('{}');
    res.writeHead(200, { 'Content-Length': String(lie.length), 'Content-Type': 'application/octet-stream' });
    res.end(lie);
  });
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
}
