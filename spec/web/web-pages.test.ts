import request from 'supertest';
import { DEFAULT_CONFIG } from '../../src/config';
import { MediaType } from '../../src/oci/media-types';
import { pushBlob, pushImage, pushManifest } from '../support/http';
import { blob, descriptor, imageIndex, imageManifest, EMPTY_CONFIG } from '../support/oci';
import { startTestRegistry, type TestRegistry } from '../support/registry';
import { WebClient } from './support/web-client';
import { SETTINGS_VERSIONS } from '../../src/web/settings-routes';

/**
 * The web pages over real pushes (issue #17): security headers, escaping of
 * what pushers write, private packages hidden from outsiders (404 with
 * nothing of the name), the package page's tree and pull command, the
 * version page, sessions and CSRF.
 */
const ADMIN_PASSWORD = 'admin-password-1';
const password = (name: string) => `${name}-password`;
const HOSTILE = `<script>alert(1)</script> "><img src=x onerror=alert(2)> Billing API`;
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
const REVISION = '0123456789abcdef0123456789abcdef01234567';

let t: TestRegistry;
const clients: Record<string, WebClient> = {};
let webIndexId: number;
let signatureDigest: string;

/** A supertest agent that sends Basic credentials with every request (registry pushes). */
function as(user: string) {
  return request.agent(t.registry.app).auth(user, user === 'admin' ? ADMIN_PASSWORD : password(user));
}

/** An image whose config carries labels, env and ports, as `docker build` writes them. */
async function pushLabelled(user: string, name: string, tag: string, labels: Record<string, string>, arch = 'amd64') {
  const http = as(user);
  const config = blob(
    JSON.stringify({
      architecture: arch,
      os: 'linux',
      config: { Labels: labels, Env: ['PATH=/usr/bin', 'API_SECRET=hunter2'], ExposedPorts: { '8080/tcp': {} }, Entrypoint: ['/app'] },
      history: [{ created_by: 'COPY app /app # <b>bold</b>' }, { created_by: '/bin/sh -c #(nop) ENV API_SECRET=hunter2' }],
      rootfs: { type: 'layers', diff_ids: [] },
    }),
  );
  const layer = blob(`layer of ${name} ${arch} ${tag}`);
  await pushBlob(http, name, config);
  await pushBlob(http, name, layer);
  return pushManifest(
    http,
    name,
    tag,
    imageManifest({
      config: descriptor(config, MediaType.OCI_CONFIG),
      layers: [descriptor(layer, 'application/vnd.oci.image.layer.v1.tar')],
    }),
  );
}

/** A fresh session of `user`: its cookie. */
async function signIn(user: string): Promise<string> {
  return (await new WebClient(t.http, user, password(user)).signIn()).cookie;
}

const page = (path: string, who?: string) => (who ? clients[who]!.get(path) : t.http.get(path));

beforeAll(async () => {
  t = await startTestRegistry({ auth: { ...DEFAULT_CONFIG.auth, mode: 'token', adminPassword: ADMIN_PASSWORD } });
  const admin = as('admin');
  for (const name of ['alice', 'bob', 'eve'])
    expect((await admin.post('/api/v1/users').send({ name, password: password(name) })).status).toBe(201);
  const alice = as('alice');
  expect((await alice.post('/api/v1/orgs').send({ name: 'acme' })).status).toBe(201);
  expect((await alice.put('/api/v1/orgs/acme/members/bob').send({ role: 'member' })).status).toBe(200);

  // Private, with a hostile description.
  await pushLabelled('alice', 'acme/billing-api', 'v1', {
    'org.opencontainers.image.description': HOSTILE,
    'org.opencontainers.image.source': 'javascript:alert(3)',
  });
  // Public, two platforms in an index, signed, with a source on GitHub.
  const labels = {
    'org.opencontainers.image.description': 'The web frontend',
    'org.opencontainers.image.licenses': 'Apache-2.0',
    'org.opencontainers.image.source': 'https://github.com/acme/web',
    'org.opencontainers.image.revision': REVISION,
  };
  const amd = await pushLabelled('alice', 'acme/web', 'amd-only', labels, 'amd64');
  const arm = await pushLabelled('alice', 'acme/web', 'arm-only', labels, 'arm64');
  const index = await pushManifest(
    alice,
    'acme/web',
    'latest',
    imageIndex([
      amd.descriptor({ platform: { os: 'linux', architecture: 'amd64' } }),
      arm.descriptor({ platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }),
    ]),
  );
  await pushBlob(alice, 'acme/web', EMPTY_CONFIG);
  const signature = await pushImage(alice, 'acme/web', null, {
    artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
    subject: index.descriptor(),
    seed: 'signature',
  });
  signatureDigest = signature.digest;
  expect((await alice.patch('/api/v1/packages/acme/web').send({ visibility: 'public' })).status).toBe(200);
  await t.registry.search.idle();
  const versions = await alice.get('/api/v3/orgs/acme/packages/container/web/versions');
  webIndexId = (versions.body as Array<{ id: number; name: string }>).find((v) => v.name === index.digest)!.id;
  for (const user of ['alice', 'bob', 'eve']) clients[user] = await new WebClient(t.http, user, password(user)).signIn();
}, 60_000);

afterAll(async () => {
  await t?.close();
});

describe('every page', () => {
  it('carries the CSP, nosniff and same-origin referrers, and loads only its own stylesheet and script', async () => {
    const res = await page('/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(CSP);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('same-origin');
    expect(res.text).toMatch(/<form[^>]+action="\/search"/);
    expect(res.text).not.toMatch(/<script(?![^>]*\bsrc="\/-\/static\/)/);
    expect(res.text).not.toMatch(/\sstyle=/);
    const css = res.text.match(/href="(\/-\/static\/berth\.[0-9a-f]+\.css)"/)?.[1];
    const js = res.text.match(/src="(\/-\/static\/berth\.[0-9a-f]+\.js)"/)?.[1];
    for (const [path, type] of [
      [css, 'text/css'],
      [js, 'text/javascript'],
    ] as const) {
      const asset = await page(path!);
      expect(asset.status).toBe(200);
      expect(asset.headers['content-type']).toContain(type);
      expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    }
  });

  it('answers an unknown package, and a bad version id, with a page that names nothing asked for', async () => {
    const res = await page('/orgs/acme/packages/container/package/no-such-thing');
    expect(res.status).toBe(404);
    expect(res.headers['content-security-policy']).toBe(CSP);
    expect(res.text).not.toContain('no-such-thing');
    const version = await page('/orgs/acme/packages/container/web/99999999');
    expect(version.status).toBe(404);
  });
});

describe('search', () => {
  it('shows a member the private package with its hostile description as text', async () => {
    const res = await page('/search?q=billing', 'bob');
    expect(res.status).toBe(200);
    expect(res.text).toContain('acme/billing-api');
    expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &quot;&gt;&lt;img src=x onerror=alert(2)&gt;');
    expect(res.text).not.toContain('<script>alert');
    expect(res.text).not.toContain('<img src=x');
    expect(res.text).toMatch(/class="badge private"/);
  });

  it('finds nothing of a private package for an outsider or anonymous typing its exact name', async () => {
    for (const who of ['eve', undefined]) {
      const res = await page('/search?q=acme%2Fbilling-api', who);
      expect(res.status).toBe(200);
      expect(res.text).toContain('0 packages found');
      expect(res.text).not.toContain('href="/orgs/acme/packages/container/package/billing-api"');
    }
  });

  it('live search: the page marks its results region, and the API the script asks with the session cookie lists what the page lists', async () => {
    for (const who of ['bob', 'eve', undefined]) {
      const res = await page('/search?q=acme', who);
      const region = res.text.match(/<div id="search-results" data-live-results>([\s\S]*)<\/div>/)?.[1] ?? '';
      expect(region).toContain('id="search-count" role="status"');
      const listed = [...region.matchAll(/<a class="name" href="([^"]+)">/g)].map((m) => m[1]);
      const api = await page('/api/v1/search/packages?per_page=30&q=acme', who);
      expect(api.status).toBe(200);
      const items = (api.body as { items: Array<{ html_url: string }> }).items;
      expect(items.map((item) => new URL(item.html_url).pathname)).toEqual(listed);
      expect(listed.includes('/orgs/acme/packages/container/package/billing-api')).toBe(who === 'bob');
    }
    const home = await page('/', 'bob');
    expect(home.text).toMatch(/<div id="search-results" data-live-results>/);
  });

  it('escapes the query it shows back', async () => {
    const res = await page(`/search?q=${encodeURIComponent('"><script>alert(9)</script>')}`);
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('<script>alert(9)');
    expect(res.text).toContain('&quot;&gt;&lt;script&gt;alert(9)&lt;/script&gt;');
  });

  it('answers a query it cannot read with 422 and the reason, escaped', async () => {
    const res = await page(`/search?q=${encodeURIComponent('repo:<b>')}`);
    expect(res.status).toBe(422);
    expect(res.headers['content-security-policy']).toBe(CSP);
    expect(res.text).toContain('repo: needs OWNER/NAME');
    expect(res.text).not.toContain('<b>');
  });

  it('lists public packages on the home page for anyone, with owner, latest tag and downloads', async () => {
    const res = await page('/');
    expect(res.text).toContain('href="/orgs/acme/packages/container/package/web"');
    expect(res.text).toContain('The web frontend');
    expect(res.text).toContain('<span class="tag">latest</span>');
    expect(res.text).not.toContain('billing-api');
  });
});

describe('the package page', () => {
  it('is 404 to outsiders and anonymous for a private package, naming nothing of it', async () => {
    for (const who of ['eve', undefined]) {
      const res = await page('/orgs/acme/packages/container/package/billing-api', who);
      expect(res.status).toBe(404);
      expect(res.text).not.toMatch(/billing/i);
    }
    const version = await page(`/orgs/acme/packages/container/billing-api/1`, 'eve');
    expect(version.status).toBe(404);
    expect(version.text).not.toMatch(/billing/i);
  });

  it('shows a member the hostile description as text and no javascript: link', async () => {
    const res = await page('/orgs/acme/packages/container/package/billing-api', 'bob');
    expect(res.status).toBe(200);
    expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(res.text).not.toContain('<script>alert');
    expect(res.text).not.toMatch(/href="javascript:/i);
    expect(res.text).toContain('javascript:alert(3)');
  });

  it('shows the pull command with the escaped host, licence, source and commit link, and the versions tree', async () => {
    const res = await page('/orgs/acme/packages/container/package/web').set('Host', 'registry.example:5000');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<code id="pull-command">docker pull registry.example:5000/acme/web:latest</code>');
    expect(res.text).toContain('Apache-2.0');
    expect(res.text).toContain('href="https://github.com/acme/web"');
    expect(res.text).toContain(`href="https://github.com/acme/web/commit/${REVISION}"`);
    expect(res.text).toContain('<strong>linux/amd64</strong>');
    expect(res.text).toContain('<strong>linux/arm64/v8</strong>');
    expect(res.text).toContain('<span>Signature</span>');
    expect(res.text).toContain(signatureDigest.slice(0, 19));
    expect(res.text).toMatch(/<figure class="chart">\s*<svg/);
    // Children and the signature sit in the tree under the index, not beside it.
    const tree = res.text.slice(res.text.indexOf('<ul class="tree">'));
    expect(tree.indexOf('linux/amd64')).toBeGreaterThan(tree.indexOf(`/web/${webIndexId}`));
  });

  it('counts downloads in words that agree, and labels the chart axis, its total and a text for screen readers', async () => {
    expect((await as('alice').get('/v2/acme/web/manifests/latest')).status).toBe(200);
    await t.registry.downloads.flush();
    const res = await page('/orgs/acme/packages/container/package/web');
    expect(res.text).toContain('<dd>1 download in all</dd>');
    expect(res.text).not.toMatch(/\b1 downloads\b/);
    const chart = res.text.slice(res.text.indexOf('<figure class="chart">'), res.text.indexOf('</figure>'));
    expect(chart).toMatch(/<svg [^>]*role="img" aria-labelledby="downloads-chart-title downloads-chart-desc"/);
    expect(chart).toContain('<title id="downloads-chart-title">1 download in the last 30 days</title>');
    expect(chart).toMatch(
      /<desc id="downloads-chart-desc">Daily downloads from \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d; the busiest day, \d{4}-\d\d-\d\d, had 1 download\.<\/desc>/,
    );
    // The y axis: 0 at the foot, the busiest day's count at the top.
    expect(chart).toMatch(/<text [^>]*text-anchor="end">1<\/text>/);
    expect(chart).toMatch(/<text [^>]*text-anchor="end">0<\/text>/);
    expect(chart).toContain('<figcaption>1 download in the last 30 days, at most 1 download a day</figcaption>');
  });

  it('takes the pull command tag from the picker, and ignores a tag the package has not', async () => {
    const picked = await page('/orgs/acme/packages/container/package/web?tag=arm-only');
    expect(picked.text).toContain('acme/web:arm-only</code>');
    const unknown = await page(`/orgs/acme/packages/container/package/web?tag=${encodeURIComponent('<x>')}`);
    expect(unknown.status).toBe(200);
    expect(unknown.text).toContain('acme/web:latest</code>');
    expect(unknown.text).not.toContain('<x>');
  });

  it('escapes a hostile Host header in the pull command', async () => {
    const res = await page('/orgs/acme/packages/container/package/web').set('Host', 'a"><script>alert(1)</script>');
    expect(res.text).not.toContain('<script>alert(1)');
  });
});

describe('the version page', () => {
  it('lists an index platforms with links to their versions', async () => {
    const res = await page(`/orgs/acme/packages/container/web/${webIndexId}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('linux/arm64/v8');
    expect(res.text).toContain('application/vnd.dev.cosign.artifact.sig.v1+json');
  });

  it('shows an image layers and config, environment names only, history escaped', async () => {
    const index = await page(`/orgs/acme/packages/container/web/${webIndexId}`);
    const child = index.text.match(/href="(\/orgs\/acme\/packages\/container\/web\/\d+)">sha256:/)?.[1];
    const res = await page(child!);
    expect(res.status).toBe(200);
    expect(res.text).toContain('<code>API_SECRET</code>');
    expect(res.text).not.toContain('hunter2');
    expect(res.text).toContain('8080/tcp');
    expect(res.text).toContain('[&quot;/app&quot;]');
    expect(res.text).toContain('&lt;b&gt;bold&lt;/b&gt;');
    expect(res.text).toMatch(/<h2>Layers<\/h2>/);
  });
});

describe('sessions', () => {
  it('treats an unknown or ended session as anonymous, and clears its cookie', async () => {
    const res = await t.http.get('/orgs/acme/packages/container/package/billing-api').set('Cookie', 'berth_session=berth_session_bogus');
    expect(res.status).toBe(404);
    expect(String(res.headers['set-cookie'])).toMatch(/berth_session=;/);
  });

  it('refuses a wrong password with the sign-in page again', async () => {
    const res = await t.http.post('/-/sign-in').type('form').send({ username: 'bob', password: 'wrong' });
    expect(res.status).toBe(401);
    expect(res.text).toContain('Wrong user name or password.');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('refuses a sign-out without the CSRF token, and from another site', async () => {
    const bare = await t.http.post('/-/sign-out').set('Cookie', clients.bob!.cookie).type('form').send({});
    expect(bare.status).toBe(403);
    const home = await page('/', 'bob');
    const csrf = home.text.match(/name="csrf" value="([^"]+)"/)?.[1];
    const crossSite = await t.http
      .post('/-/sign-out')
      .set('Cookie', clients.bob!.cookie)
      .set('Origin', 'https://evil.example')
      .type('form')
      .send({ csrf });
    expect(crossSite.status).toBe(403);
    // Still signed in: the private package is still there.
    expect((await page('/orgs/acme/packages/container/package/billing-api', 'bob')).status).toBe(200);
  });

  it('signs out with the token: the session ends', async () => {
    const cookie = await signIn('bob');
    const home = await t.http.get('/').set('Cookie', cookie);
    expect(home.text).toContain('Sign out');
    const csrf = home.text.match(/name="csrf" value="([^"]+)"/)?.[1];
    const out = await t.http.post('/-/sign-out').set('Cookie', cookie).type('form').send({ csrf });
    expect(out.status).toBe(303);
    const after = await t.http.get('/orgs/acme/packages/container/package/billing-api').set('Cookie', cookie);
    expect(after.status).toBe(404);
  });
});

describe('owner pages', () => {
  it('show anonymous visitors the public packages only, and no members', async () => {
    const res = await page('/orgs/acme/packages');
    expect(res.status).toBe(200);
    expect(res.text).toContain('href="/orgs/acme/packages/container/package/web"');
    expect(res.text).not.toContain('billing-api');
    expect(res.text).not.toContain('<h2>Members</h2>');
  });

  it('show a member every package, filtered and sorted as asked, and the members', async () => {
    const all = await page('/orgs/acme/packages?sort=name', 'bob');
    expect(all.text).toContain('<h2>Members</h2>');
    expect(all.text).toMatch(/alice\s*<span class="muted">owner<\/span>/);
    const billing = all.text.indexOf('package/billing-api"');
    expect(billing).toBeGreaterThan(0);
    expect(billing).toBeLessThan(all.text.indexOf('package/web"'));
    const privateOnly = await page('/orgs/acme/packages?visibility=private', 'bob');
    expect(privateOnly.text).toContain('package/billing-api"');
    expect(privateOnly.text).not.toContain('package/web"');
    const untagged = await page('/orgs/acme/packages?tagged=no', 'bob');
    expect(untagged.text).toContain('0 packages');
  });

  it('answer an unknown owner, or a user under /orgs, with 404', async () => {
    expect((await page('/orgs/nobody-here/packages')).status).toBe(404);
    expect((await page('/orgs/alice/packages')).status).toBe(404);
    expect((await page('/users/alice/packages')).status).toBe(200);
  });
});

/** The CSRF token of the signed-in user's pages. */
async function csrfOf(who: string): Promise<string> {
  return clients[who]!.csrf();
}

const post = async (path: string, who: string, fields: Record<string, string | string[]>) => clients[who]!.post(path, fields);

describe('the account page', () => {
  it('sends anonymous visitors to sign in', async () => {
    const res = await page('/-/account');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/-/sign-in?next=/-/account');
  });

  it('creates a token shown once that works, lists it, and revokes it', async () => {
    const csrf = await csrfOf('bob');
    expect((await post('/-/tokens', 'bob', { name: 'ci laptop', scope: ['read:packages', 'write:packages'], days: '7' })).status).toBe(403);
    const created = await post('/-/tokens', 'bob', { csrf, name: 'ci <laptop>', scope: ['read:packages', 'write:packages'], days: '7' });
    expect(created.status).toBe(200);
    expect(created.headers['cache-control']).toBe('no-store');
    const token = created.text.match(/berth_pat_[A-Za-z0-9_-]+/)?.[0];
    expect(token).toBeDefined();
    expect(created.text).toContain('ci &lt;laptop&gt;');
    expect((await t.http.get('/api/v1/user').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    const listed = await page('/-/account', 'bob');
    expect(listed.text).not.toContain(token);
    const id = listed.text.match(/action="\/-\/tokens\/(\d+)\/revoke"/)?.[1];
    const revoked = await post(`/-/tokens/${id}/revoke`, 'bob', { csrf });
    expect(revoked.status).toBe(303);
    expect((await t.http.get('/api/v1/user').set('Authorization', `Bearer ${token}`)).status).toBe(401);
    expect((await page('/-/account?done=revoked', 'bob')).text).toContain('The token was revoked.');
  });

  it('does not let one user revoke another one token', async () => {
    const created = await post('/-/tokens', 'alice', { csrf: await csrfOf('alice'), name: 'mine', scope: 'read:packages', days: '1' });
    const id = (await page('/-/account', 'alice')).text.match(/action="\/-\/tokens\/(\d+)\/revoke"/)?.[1];
    expect(created.status).toBe(200);
    const res = await post(`/-/tokens/${id}/revoke`, 'eve', { csrf: await csrfOf('eve') });
    expect(res.status).toBe(404);
    expect((await page('/-/account', 'alice')).text).toContain(`action="/-/tokens/${id}/revoke"`);
  });
});

describe('package settings', () => {
  it('are for the package admins: others are refused, outsiders of a private package get 404', async () => {
    expect((await page('/-/settings?package=acme%2Fweb', 'alice')).status).toBe(200);
    expect((await page('/-/settings?package=acme%2Fweb', 'eve')).status).toBe(403);
    const hidden = await page('/-/settings?package=acme%2Fbilling-api', 'eve');
    expect(hidden.status).toBe(404);
    expect(hidden.text).not.toMatch(/billing/i);
    expect((await page('/-/settings?package=acme%2Fweb')).status).toBe(401);
  });

  it('change a visibility, with the CSRF token only', async () => {
    expect((await post('/-/settings/visibility', 'alice', { package: 'acme/billing-api', visibility: 'public' })).status).toBe(403);
    const csrf = await csrfOf('alice');
    const res = await post('/-/settings/visibility', 'alice', { csrf, package: 'acme/billing-api', visibility: 'public' });
    expect(res.status).toBe(303);
    expect((await page('/orgs/acme/packages/container/package/billing-api')).status).toBe(200);
    await post('/-/settings/visibility', 'alice', { csrf, package: 'acme/billing-api', visibility: 'private' });
    expect((await page('/orgs/acme/packages/container/package/billing-api')).status).toBe(404);
  });

  it('delete and restore a version with its tree, and refuse a platform an index still holds', async () => {
    const csrf = await csrfOf('alice');
    const settings = await page('/-/settings?package=acme%2Fweb', 'alice');
    const child = settings.text.match(/web\/(\d+)">sha256:[0-9a-f]+<\/a><\/td>\s*<td>amd-only/)?.[1];
    expect((await post('/-/settings/versions/delete', 'alice', { csrf, package: 'acme/web', id: child! })).status).toBe(409);
    const deleted = await post('/-/settings/versions/delete', 'alice', { csrf, package: 'acme/web', id: String(webIndexId) });
    expect(deleted.status).toBe(303);
    const gone = await page('/orgs/acme/packages/container/package/web', 'alice');
    expect(gone.text).not.toContain(`/web/${webIndexId}"`);
    expect((await page('/-/settings?package=acme%2Fweb', 'alice')).text).toContain('Deleted versions');
    const restored = await post('/-/settings/versions/restore', 'alice', { csrf, package: 'acme/web', id: String(webIndexId) });
    expect(restored.status).toBe(303);
    const back = await page('/orgs/acme/packages/container/package/web', 'alice');
    expect(back.text).toContain(`/web/${webIndexId}"`);
    expect(back.text).toContain('<span>Signature</span>');
  });

  // 52 pushes: on PostgreSQL, on a loaded machine, they took longer than jest's 30 s.
  it('page the versions of a package with more than fit one page, each list keeping the other one page', async () => {
    const alice = as('alice');
    const count = SETTINGS_VERSIONS + 2;
    for (let i = 0; i < count; i++) await pushImage(alice, 'alice/many', `t${i}`, { seed: `many-${i}` });
    const first = await page('/-/settings?package=alice%2Fmany', 'alice');
    expect(first.status).toBe(200);
    expect(first.text.match(/name="id"/g)).toHaveLength(SETTINGS_VERSIONS);
    expect(first.text).toContain('<span>Page 1 of 2</span>');
    expect(first.text).toContain('href="/-/settings?package=alice%2Fmany&amp;kind=user&amp;page=2" rel="next"');
    const second = await page('/-/settings?package=alice%2Fmany&page=2', 'alice');
    expect(second.text.match(/name="id"/g)).toHaveLength(count - SETTINGS_VERSIONS);
    expect(second.text).toContain('<span>Page 2 of 2</span>');
    expect(second.text).toContain('rel="prev"');
    // No version on both pages.
    const ids = (text: string) => [...text.matchAll(/name="id" value="(\d+)"/g)].map((m) => m[1]);
    expect(ids(second.text).filter((id) => ids(first.text).includes(id))).toEqual([]);
  }, 120_000);

  it('delete and restore the package', async () => {
    const csrf = await csrfOf('alice');
    expect((await post('/-/settings/package/delete', 'alice', { csrf, package: 'acme/billing-api' })).status).toBe(303);
    expect((await page('/orgs/acme/packages/container/package/billing-api', 'alice')).status).toBe(404);
    const settings = await page('/-/settings?package=acme%2Fbilling-api', 'alice');
    expect(settings.text).toContain('This package is deleted.');
    expect((await post('/-/settings/package/restore', 'alice', { csrf, package: 'acme/billing-api' })).status).toBe(303);
    expect((await page('/orgs/acme/packages/container/package/billing-api', 'alice')).status).toBe(200);
  });
});

describe('organisation members', () => {
  it('are managed by its owners from the organisation page, with the CSRF token', async () => {
    expect((await page('/orgs/acme/packages', 'bob')).text).not.toContain('action="/-/orgs/members"');
    const owner = await page('/orgs/acme/packages', 'alice');
    expect(owner.text).toContain('action="/-/orgs/members"');
    const csrf = await csrfOf('alice');
    expect((await post('/-/orgs/members', 'alice', { org: 'acme', user: 'eve', role: 'member' })).status).toBe(403);
    expect((await post('/-/orgs/members', 'bob', { csrf: await csrfOf('bob'), org: 'acme', user: 'eve', role: 'member' })).status).toBe(
      403,
    );
    const added = await post('/-/orgs/members', 'alice', { csrf, org: 'acme', user: 'eve', role: 'member' });
    expect(added.status).toBe(303);
    expect((await page('/orgs/acme/packages/container/package/billing-api', 'eve')).status).toBe(200);
    expect((await post('/-/orgs/members', 'alice', { csrf, org: 'acme', user: 'eve', role: '' })).status).toBe(303);
    expect((await page('/orgs/acme/packages/container/package/billing-api', 'eve')).status).toBe(404);
  });
});

describe('a package whose name has more than one segment', () => {
  it('has its package and version pages', async () => {
    const pushed = await pushLabelled('alice', 'acme/tools/cli', 'v1', { 'org.opencontainers.image.description': 'nested' });
    await t.registry.search.idle();
    const res = await page('/orgs/acme/packages/container/package/tools/cli', 'bob');
    expect(res.status).toBe(200);
    expect(res.text).toContain('acme/tools/cli:v1</code>');
    const version = res.text.match(/href="(\/orgs\/acme\/packages\/container\/tools%2Fcli\/\d+)"/)?.[1];
    const v = await page(version!, 'bob');
    expect(v.status).toBe(200);
    expect(v.text).toContain(pushed.digest);
  });
});

describe('source repository settings', () => {
  it('let its admins change the visibility and the collaborators; others are refused', async () => {
    expect((await as('alice').post('/api/v1/repositories').send({ owner: 'acme', name: 'site', visibility: 'private' })).status).toBe(201);
    const settings = await page('/-/repositories?repository=acme%2Fsite', 'alice');
    expect(settings.status).toBe(200);
    expect(settings.text).toContain('Make public');
    expect((await page('/orgs/acme/packages', 'alice')).text).toContain('href="/-/repositories?repository=acme%2Fsite"');
    expect((await page('/-/repositories?repository=acme%2Fsite', 'eve')).status).toBe(404);
    const csrf = await csrfOf('alice');
    const added = await post('/-/repositories/collaborators', 'alice', { csrf, repository: 'acme/site', user: 'eve', role: 'read' });
    expect(added.status).toBe(303);
    expect((await page('/-/repositories?repository=acme%2Fsite', 'alice')).text).toMatch(/eve\s*<span class="muted">read<\/span>/);
    // read is not admin: eve may see the repository, not its settings.
    expect((await page('/-/repositories?repository=acme%2Fsite', 'eve')).status).toBe(403);
    const visibility = await post('/-/repositories/visibility', 'alice', { csrf, repository: 'acme/site', visibility: 'public' });
    expect(visibility.status).toBe(303);
    expect((await page('/-/repositories?repository=acme%2Fsite&done=repository', 'alice')).text).toContain('Make private');
    expect(
      (
        await post('/-/repositories/collaborators', 'eve', {
          csrf: await csrfOf('eve'),
          repository: 'acme/site',
          user: 'eve',
          role: 'admin',
        })
      ).status,
    ).toBe(403);
  });
});
