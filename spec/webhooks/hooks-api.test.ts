import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_CONFIG } from '../../src/config';
import { startTestRegistry, type TestRegistry } from '../support/registry';
import { HookReceiver, verifySignatures } from './support/hook-receiver';

/**
 * GitHub's hooks API at /api/v3 (issue #16) driven by @octokit/rest, deliveries received by a real
 * HTTP receiver on 127.0.0.1 and their signatures checked by GitHub's own code; the permission
 * rules and instance hooks through plain requests.
 */
const ADMIN_PASSWORD = 'admin-password-1';
const SECRET = 'It is a secret to everybody';
let t: TestRegistry;
let server: Server;
let receiver: HookReceiver;
let receiverUrl: string;

beforeAll(async () => {
  receiver = new HookReceiver();
  receiverUrl = await receiver.start();
  t = await startTestRegistry(
    { auth: { ...DEFAULT_CONFIG.auth, mode: 'token', adminPassword: ADMIN_PASSWORD }, webhooks: { allowedHosts: '127.0.0.1' } },
    { webhooks: { pollIntervalMs: 50, backoffMs: [100, 100] } },
  );
  for (const name of ['alice', 'bob']) {
    expect(
      (
        await t.http
          .post('/api/v1/users')
          .auth('admin', ADMIN_PASSWORD)
          .send({ name, password: `${name}-password` })
      ).status,
    ).toBe(201);
  }
  expect((await t.http.post('/api/v1/orgs').auth('alice', 'alice-password').send({ name: 'acme' })).status).toBe(201);
  expect((await t.http.put('/api/v1/orgs/acme/members/bob').auth('alice', 'alice-password').send({ role: 'member' })).status).toBe(200);
  expect((await t.http.post('/api/v1/repositories').auth('alice', 'alice-password').send({ owner: 'acme', name: 'app' })).status).toBe(201);
  server = createServer({ IncomingMessage: t.registry.app.IncomingMessage, ServerResponse: t.registry.app.ServerResponse }, t.registry.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
}, 60_000);
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await t.close();
  await receiver.close();
});

async function octokit(...args: string[]): Promise<Record<string, unknown>> {
  const { port } = server.address() as AddressInfo;
  const script = path.join(__dirname, 'support', 'octokit-hooks.mjs');
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [script, `http://127.0.0.1:${port}/api/v3`, 'alice', 'alice-password', ...args],
    {
      timeout: 60_000,
    },
  );
  return JSON.parse(stdout) as Record<string, unknown>;
}

it('manages organisation and repository hooks with @octokit/rest; pings arrive signed; redelivery keeps the GUID', async () => {
  const setup = await octokit('setup', receiverUrl, SECRET);
  expect(setup).toEqual({
    createStatus: 201,
    hookId: expect.any(Number),
    createdConfig: { url: receiverUrl, content_type: 'json', insecure_ssl: '0', secret: '********', package_glob: null, tag_glob: null },
    pingUrl: expect.stringMatching(/\/api\/v3\/orgs\/acme\/hooks\/\d+\/pings$/),
    listed: [setup.hookId],
    got: ['package'],
    updatedEvents: ['package', 'ping'],
    pingStatus: 204,
    internalUrlStatus: 422,
    repoHookType: 'Repository',
    repoEvents: ['package', 'ping'],
    repoListed: 1,
    repoDeleteStatus: 204,
    repoAfterDelete: 404,
    wrongOwner: 404,
  });
  // The org hook's ping on creation and the explicit ping; the repository hook's ping on creation
  // (sent unless it was deleted before the worker reached it).
  await receiver.waitFor(2);
  const orgPings = receiver.received.filter((r) => r.headers['x-github-hook-id'] === String(setup.hookId));
  expect(orgPings).toHaveLength(2);
  for (const ping of orgPings) {
    expect(ping.headers).toMatchObject({
      'x-github-event': 'ping',
      'content-type': 'application/json',
      'user-agent': expect.stringMatching(/^Berth-Hookshot\/\d+\.\d+\.\d+/),
      'x-github-delivery': expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(JSON.parse(ping.body)).toMatchObject({
      hook_id: setup.hookId,
      zen: expect.any(String),
      hook: { type: 'Organization', id: setup.hookId },
    });
  }
  expect(orgPings[0]!.headers['x-github-delivery']).not.toBe(orgPings[1]!.headers['x-github-delivery']);
  expect(await verifySignatures(SECRET, receiver.received)).toEqual(receiver.received.map(() => true));
  expect(await verifySignatures('another secret', orgPings)).toEqual([false, false]);

  const before = receiver.received.length;
  const seen = await octokit('deliveries', String(setup.hookId));
  expect(seen).toEqual({
    deliveries: [
      { event: 'ping', status_code: 200, redelivery: false },
      { event: 'ping', status_code: 200, redelivery: false },
    ],
    oneGuid: orgPings[0]!.headers['x-github-delivery'],
    oneRequestEvent: 'ping',
    oneRequestPayloadHookId: setup.hookId,
    oneResponse: 'answered 200',
    redeliverStatus: 202,
    deleteStatus: 204,
    afterDelete: 404,
  });
  // The redelivery was queued before the hook was deleted: sent, or dropped with the hook; never
  // under another GUID.
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (const r of receiver.received.slice(before)) expect(r.headers['x-github-delivery']).toBe(seen.oneGuid);
}, 60_000);

it("lets a personal access token with GitHub's admin:org_hook scope manage an organisation's hooks, and nothing more", async () => {
  const mint = async (scopes: string[]) => {
    const r = await t.http
      .post('/api/v1/tokens')
      .auth('alice', 'alice-password')
      .send({ name: scopes.join(' '), scopes });
    expect(r.status).toBe(201);
    return r.body.token as string;
  };
  const hooksToken = await mint(['admin:org_hook', 'read:packages']);
  const seen = await octokit('token', receiverUrl, SECRET, hooksToken);
  expect(seen).toEqual({
    createStatus: 201,
    hookId: expect.any(Number),
    listStatus: 200,
    listedIds: expect.arrayContaining([seen.hookId]),
    scopes: 'read:packages, admin:org_hook',
    // The organisation's scope does not reach a repository's hooks.
    repoCreateStatus: 403,
    deleteStatus: 204,
  });
  // A token with package scopes alone manages no hooks.
  expect(await octokit('token', receiverUrl, SECRET, await mint(['write:packages']))).toEqual({
    createStatus: 403,
    listStatus: 403,
    repoCreateStatus: 403,
  });
}, 60_000);

it('redelivers under the same GUID, marked as a redelivery', async () => {
  const created = await t.http
    .post('/api/v3/orgs/acme/hooks')
    .auth('alice', 'alice-password')
    .send({ config: { url: receiverUrl, content_type: 'json', secret: SECRET }, events: ['package'] });
  expect(created.status).toBe(201);
  const hookId = created.body.id as number;
  const mine = () => receiver.received.filter((r) => r.headers['x-github-hook-id'] === String(hookId));
  await waitUntil(() => mine().length === 1);
  const log = await t.http.get(`/api/v3/orgs/acme/hooks/${hookId}/deliveries`).auth('alice', 'alice-password');
  expect(log.body).toHaveLength(1);
  const again = await t.http
    .post(`/api/v3/orgs/acme/hooks/${hookId}/deliveries/${log.body[0].id}/attempts`)
    .auth('alice', 'alice-password');
  expect(again.status).toBe(202);
  await waitUntil(() => mine().length === 2);
  expect(mine()[1]!.headers['x-github-delivery']).toBe(mine()[0]!.headers['x-github-delivery']);
  const after = await t.http.get(`/api/v3/orgs/acme/hooks/${hookId}/deliveries`).auth('alice', 'alice-password');
  expect(after.body.map((d: { redelivery: boolean; guid: string }) => [d.redelivery, d.guid])).toEqual([
    [true, log.body[0].guid],
    [false, log.body[0].guid],
  ]);
  await t.http.delete(`/api/v3/orgs/acme/hooks/${hookId}`).auth('alice', 'alice-password');
}, 30_000);

it('retries a failing receiver with backoff, logs every attempt, and a 410 switches the hook off', async () => {
  receiver.answerWith(500, { status: 503, headers: { 'Retry-After': '0' } });
  const created = await t.http
    .post('/api/v1/admin/hooks')
    .auth('admin', ADMIN_PASSWORD)
    .send({ config: { url: receiverUrl, content_type: 'json', secret: SECRET }, events: ['*'] });
  expect(created.status).toBe(201);
  expect(created.body.type).toBe('Global');
  const hookId = created.body.id as number;
  const mine = () => receiver.received.filter((r) => r.headers['x-github-hook-id'] === String(hookId));
  await waitUntil(() => mine().length === 3);
  expect(new Set(mine().map((r) => r.headers['x-github-delivery'])).size).toBe(1);
  const log = await t.http.get(`/api/v1/admin/hooks/${hookId}/deliveries`).auth('admin', ADMIN_PASSWORD);
  expect(log.body.map((d: { attempt: number; status_code: number }) => [d.attempt, d.status_code])).toEqual([
    [3, 200],
    [2, 503],
    [1, 500],
  ]);
  const one = await t.http.get(`/api/v1/admin/hooks/${hookId}/deliveries/${log.body[2].id}`).auth('admin', ADMIN_PASSWORD);
  expect(one.body.response).toEqual({ headers: expect.objectContaining({ 'content-type': 'text/plain' }), payload: 'answered 500' });
  expect(one.body.request.headers['X-Hub-Signature-256']).toMatch(/^sha256=[0-9a-f]{64}$/);

  receiver.answerWith(410);
  expect((await t.http.post(`/api/v1/admin/hooks/${hookId}/pings`).auth('admin', ADMIN_PASSWORD)).status).toBe(204);
  await waitUntil(async () => {
    const hook = await t.http.get(`/api/v1/admin/hooks/${hookId}`).auth('admin', ADMIN_PASSWORD);
    return hook.body.active === false;
  });
  const hook = await t.http.get(`/api/v1/admin/hooks/${hookId}`).auth('admin', ADMIN_PASSWORD);
  expect(hook.body.disabled_reason).toMatch(/410/);
  const count = mine().length;
  expect((await t.http.post(`/api/v1/admin/hooks/${hookId}/pings`).auth('admin', ADMIN_PASSWORD)).status).toBe(204);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(mine()).toHaveLength(count);
}, 30_000);

it('lets only organisation owners, repository admins and site administrators manage hooks, with a full sign-in', async () => {
  const body = { config: { url: receiverUrl }, events: ['package'] };
  expect((await t.http.get('/api/v3/orgs/acme/hooks')).status).toBe(401);
  expect((await t.http.get('/api/v3/orgs/acme/hooks').auth('bob', 'bob-password')).status).toBe(403);
  expect((await t.http.post('/api/v3/orgs/acme/hooks').auth('bob', 'bob-password').send(body)).status).toBe(403);
  expect((await t.http.get('/api/v3/repos/acme/app/hooks').auth('bob', 'bob-password')).status).toBe(403);
  expect((await t.http.get('/api/v3/orgs/nope/hooks').auth('alice', 'alice-password')).status).toBe(404);
  expect((await t.http.get('/api/v3/repos/acme/nope/hooks').auth('alice', 'alice-password')).status).toBe(404);
  expect((await t.http.get('/api/v3/orgs/acme/hooks').auth('admin', ADMIN_PASSWORD)).status).toBe(200);
  expect((await t.http.get('/api/v1/admin/hooks').auth('alice', 'alice-password')).status).toBe(403);
  const token = await t.http
    .post('/api/v1/tokens')
    .auth('alice', 'alice-password')
    .send({ name: 'ci', scopes: ['write:packages'] });
  expect((await t.http.get('/api/v3/orgs/acme/hooks').set('Authorization', `token ${token.body.token as string}`)).status).toBe(403);
  // The SSRF guard: internal addresses are refused unless allowed (127.0.0.1 is, in this test).
  for (const url of ['http://127.0.0.2/', 'http://10.0.0.1/', 'http://[::1]/', 'file:///etc/passwd']) {
    const res = await t.http
      .post('/api/v3/orgs/acme/hooks')
      .auth('alice', 'alice-password')
      .send({ config: { url }, events: ['package'] });
    expect(res.status).toBe(422);
  }
  expect(
    (
      await t.http
        .post('/api/v1/admin/hooks')
        .auth('admin', ADMIN_PASSWORD)
        .send({ config: { url: 'http://10.0.0.1/' } })
    ).status,
  ).toBe(422);
  const unknownEvent = await t.http
    .post('/api/v3/orgs/acme/hooks')
    .auth('alice', 'alice-password')
    .send({ ...body, events: ['push'] });
  expect(unknownEvent.status).toBe(422);
});

it('never returns a secret', async () => {
  const created = await t.http
    .post('/api/v3/repos/acme/app/hooks')
    .auth('alice', 'alice-password')
    .send({ config: { url: receiverUrl, secret: SECRET }, events: ['package'] });
  expect(created.status).toBe(201);
  const texts = [
    created.text,
    (await t.http.get('/api/v3/repos/acme/app/hooks').auth('alice', 'alice-password')).text,
    (await t.http.get(`/api/v3/repos/acme/app/hooks/${created.body.id as number}`).auth('alice', 'alice-password')).text,
    (
      await t.http
        .patch(`/api/v3/repos/acme/app/hooks/${created.body.id as number}`)
        .auth('alice', 'alice-password')
        .send({ active: false })
    ).text,
  ];
  for (const text of texts) expect(text).not.toContain(SECRET);
});

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
