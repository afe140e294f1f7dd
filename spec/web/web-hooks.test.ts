import { DEFAULT_CONFIG } from '../../src/config';
import { startTestRegistry, type TestRegistry } from '../support/registry';
import { HookReceiver } from '../webhooks/support/hook-receiver';
import { WebClient } from './support/web-client';

/**
 * The webhook settings pages (issue #17: "webhooks and their deliveries"): an organisation's
 * owners, a repository's admins and site administrators list, create, edit, ping and delete
 * hooks and read the delivery log, request and response, and redeliver, all through forms with
 * the CSRF token; deliveries go to a real receiver on 127.0.0.1.
 */
const ADMIN_PASSWORD = 'admin-password-1';
const SECRET = 'never-shown-on-a-page';
const HOSTILE_HEADER = '<script>alert(1)</script>';
let t: TestRegistry;
let receiver: HookReceiver;
let receiverUrl: string;
const people: Record<string, WebClient> = {};
const ORG = 'scope=org%3Aacme';

beforeAll(async () => {
  receiver = new HookReceiver();
  receiverUrl = await receiver.start();
  t = await startTestRegistry(
    { auth: { ...DEFAULT_CONFIG.auth, mode: 'token', adminPassword: ADMIN_PASSWORD }, webhooks: { allowedHosts: '127.0.0.1' } },
    { webhooks: { pollIntervalMs: 50, backoffMs: [100, 100] } },
  );
  const admin = () => t.http.post('/api/v1/users').auth('admin', ADMIN_PASSWORD);
  for (const name of ['alice', 'bob', 'eve']) expect((await admin().send({ name, password: `${name}-password` })).status).toBe(201);
  const alice = (req: ReturnType<typeof t.http.post>) => req.auth('alice', 'alice-password');
  expect((await alice(t.http.post('/api/v1/orgs')).send({ name: 'acme' })).status).toBe(201);
  expect((await alice(t.http.put('/api/v1/orgs/acme/members/bob')).send({ role: 'member' })).status).toBe(200);
  expect((await alice(t.http.post('/api/v1/repositories')).send({ owner: 'acme', name: 'app' })).status).toBe(201);
  for (const name of ['alice', 'bob', 'eve']) people[name] = await new WebClient(t.http, name, `${name}-password`).signIn();
  people.admin = await new WebClient(t.http, 'admin', ADMIN_PASSWORD).signIn();
}, 60_000);

afterAll(async () => {
  await t?.close();
  await receiver?.close();
});

/** Reads the page until `pattern` shows (deliveries are sent and logged in the background). */
async function pageShowing(who: WebClient, path: string, pattern: RegExp): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await who.get(path);
    expect(res.status).toBe(200);
    if (pattern.test(res.text) || Date.now() > deadline) return res.text;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const hookFields = (extra: Record<string, string | string[]> = {}) => ({
  scope: 'org:acme',
  url: receiverUrl,
  secret: SECRET,
  content_type: 'json',
  events: ['package', 'berth_tag'],
  package_glob: '',
  tag_glob: 'v*',
  active: 'yes',
  ...extra,
});

describe('webhook pages', () => {
  it('are for those who may manage the hooks: the organisation owners, not members; a sign-in first', async () => {
    const list = await people.alice!.get(`/-/hooks?${ORG}`);
    expect(list.status).toBe(200);
    expect(list.text).toContain('Webhooks of the organisation acme');
    expect(list.text).toContain('No webhooks yet.');
    expect((await people.bob!.get(`/-/hooks?${ORG}`)).status).toBe(403);
    expect((await people.eve!.get(`/-/hooks?${ORG}`)).status).toBe(403);
    expect((await t.http.get(`/-/hooks?${ORG}`)).status).toBe(401);
    // The instance's hooks are for site administrators.
    expect((await people.alice!.get('/-/hooks?scope=instance')).status).toBe(403);
    expect((await people.admin!.get('/-/hooks?scope=instance')).status).toBe(200);
    // A repository's, for its admins.
    expect((await people.alice!.get('/-/hooks?scope=repo%3Aacme%2Fapp')).status).toBe(200);
    expect((await people.bob!.get('/-/hooks?scope=repo%3Aacme%2Fapp')).status).toBe(403);
    // A scope that names nothing, and one that names nobody, are not found.
    expect((await people.alice!.get('/-/hooks?scope=%3Cb%3E')).status).toBe(404);
    expect((await people.alice!.get('/-/hooks?scope=org%3Anobody')).status).toBe(404);
  });

  it('are linked from the organisation page and the account page of its owners, and from a repository settings page', async () => {
    expect((await people.alice!.get('/orgs/acme/packages')).text).toContain('href="/-/hooks?scope=org%3Aacme"');
    expect((await people.bob!.get('/orgs/acme/packages')).text).not.toContain('/-/hooks?');
    expect((await people.alice!.get('/-/account')).text).toContain('href="/-/hooks?scope=org%3Aacme"');
    expect((await people.admin!.get('/-/account')).text).toContain('href="/-/hooks?scope=instance"');
    expect((await people.alice!.get('/-/repositories?repository=acme%2Fapp')).text).toContain('href="/-/hooks?scope=repo%3Aacme%2Fapp"');
  });

  it('create a hook with the CSRF token only, never show its secret, and log the ping with request and response', async () => {
    expect((await people.alice!.post('/-/hooks/create', hookFields())).status).toBe(403);
    const csrf = await people.alice!.csrf();
    // Another member's token is no use either.
    expect((await people.bob!.post('/-/hooks/create', { ...hookFields(), csrf })).status).toBe(403);
    receiver.answerWith({ status: 200, headers: { 'X-Note': HOSTILE_HEADER } });
    const created = await people.alice!.post('/-/hooks/create', { ...hookFields(), csrf });
    expect(created.status).toBe(303);
    const location = created.headers.location as string;
    expect(location).toMatch(/^\/-\/hooks\/\d+\?scope=org%3Aacme&done=created$/);
    const [ping] = await receiver.waitFor(1);
    expect(ping!.headers['x-github-event']).toBe('ping');
    expect(ping!.headers['x-hub-signature-256']).toMatch(/^sha256=/);

    const hookPage = await pageShowing(people.alice!, location, /200 OK/);
    expect(hookPage).toContain('The webhook was created.');
    expect(hookPage).toMatch(/<td>\s*ping\s*<\/td>\s*<td>200 OK<\/td>/);
    expect(hookPage).not.toContain(SECRET);
    expect(hookPage).toContain('Secret (one is set: leave empty to keep it)');
    expect(hookPage).toMatch(/name="events" value="berth_tag" checked/);
    expect(hookPage).toMatch(/name="events" value="ping"\s*\/>/);
    expect(hookPage).toContain('value="v*"');
    const list = await people.alice!.get(`/-/hooks?${ORG}`);
    expect(list.text).toContain(`>${receiverUrl}</a>`);
    expect(list.text).not.toContain(SECRET);

    const deliveryLink = hookPage.match(/href="(\/-\/hooks\/\d+\/deliveries\/\d+\?scope=org%3Aacme)"/)?.[1];
    expect(deliveryLink).toBeDefined();
    const delivery = await people.alice!.get(deliveryLink!.replace(/&amp;/g, '&'));
    expect(delivery.status).toBe(200);
    expect(delivery.text).toMatch(/<th scope="row">X-GitHub-Event<\/th>\s*<td class="digest">ping<\/td>/i);
    expect(delivery.text).toContain(ping!.headers['x-github-delivery'] as string);
    expect(delivery.text).toContain('answered 200');
    // What a receiver answers is text on the page.
    expect(delivery.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(delivery.text).not.toContain(HOSTILE_HEADER);
    // The signature is in the log; the secret is not.
    expect(delivery.text).not.toContain(SECRET);
  });

  it('redeliver a logged delivery under its GUID, and ping again', async () => {
    const csrf = await people.alice!.csrf();
    const list = await people.alice!.get(`/-/hooks?${ORG}`);
    const id = list.text.match(/href="\/-\/hooks\/(\d+)\?/)?.[1];
    const hookPage = (await people.alice!.get(`/-/hooks/${id}?${ORG}`)).text;
    const attempt = hookPage.match(/\/deliveries\/(\d+)\?/)?.[1];
    const before = receiver.received.length;
    const redelivered = await people.alice!.post('/-/hooks/redeliver', { csrf, scope: 'org:acme', id: id!, attempt: attempt! });
    expect(redelivered.status).toBe(303);
    expect(redelivered.headers.location).toBe(`/-/hooks/${id}?scope=org%3Aacme&done=redelivered`);
    const received = await receiver.waitFor(before + 1);
    expect(received[before]!.headers['x-github-delivery']).toBe(received[0]!.headers['x-github-delivery']);
    expect(await pageShowing(people.alice!, `/-/hooks/${id}?${ORG}`, /\(redelivery\)/)).toContain('(redelivery)');
    expect((await people.alice!.post('/-/hooks/ping', { csrf, scope: 'org:acme', id: id! })).status).toBe(303);
    await receiver.waitFor(before + 2);
    // A hook of another scope is not found through this one.
    expect((await people.alice!.get(`/-/hooks/${id}?scope=repo%3Aacme%2Fapp`)).status).toBe(404);
  });

  it('edit events, filters and active, keeping the secret when the field is left empty, then delete', async () => {
    const csrf = await people.alice!.csrf();
    const id = (await people.alice!.get(`/-/hooks?${ORG}`)).text.match(/href="\/-\/hooks\/(\d+)\?/)?.[1];
    const { active: _active, ...inactive } = hookFields({ secret: '', events: ['berth_package'], package_glob: 'acme/*', tag_glob: '' });
    const saved = await people.alice!.post('/-/hooks/update', { ...inactive, csrf, id: id! });
    expect(saved.status).toBe(303);
    const api = await t.http.get(`/api/v3/orgs/acme/hooks/${id}`).auth('alice', 'alice-password');
    expect(api.body).toMatchObject({
      active: false,
      events: ['berth_package'],
      config: { secret: '********', package_glob: 'acme/*', tag_glob: null },
    });
    const page = (await people.alice!.get(`/-/hooks/${id}?${ORG}`)).text;
    expect(page).toContain('inactive');
    expect(page).toMatch(/name="active" value="yes"\s*\/>/);
    // Removing the secret is asked for, not implied.
    await people.alice!.post('/-/hooks/update', { ...inactive, csrf, id: id!, clear_secret: 'yes' });
    expect((await t.http.get(`/api/v3/orgs/acme/hooks/${id}`).auth('alice', 'alice-password')).body.config.secret).toBeUndefined();
    // A refused URL is a page with the reason.
    const refused = await people.alice!.post('/-/hooks/update', { ...inactive, csrf, id: id!, url: 'http://169.254.169.254/' });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('class="error"');

    const deleted = await people.alice!.post('/-/hooks/delete', { csrf, scope: 'org:acme', id: id! });
    expect(deleted.headers.location).toBe('/-/hooks?scope=org%3Aacme&done=deleted');
    expect((await people.alice!.get(`/-/hooks?${ORG}`)).text).toContain('No webhooks yet.');
    expect((await people.alice!.get(`/-/hooks/${id}?${ORG}`)).status).toBe(404);
  });
});
