import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { createHmac } from 'node:crypto';
import request from 'supertest';
import { DEFAULT_CONFIG } from '../../src/config';
import { MediaType } from '../../src/oci/media-types';
import { pushBlob, pushManifest, putManifest } from '../support/http';
import { blob, descriptor, imageIndex, imageManifest } from '../support/oci';
import { startTestRegistry, type TestRegistry } from '../support/registry';
import { HookReceiver, verifySignatures, type ReceivedHook } from './support/hook-receiver';

/**
 * GitHub's `package` event (issue #16): a tagged push reaches an organisation's hook as one
 * signed `published` event in GitHub's payload shape (checked against @octokit/webhooks-schemas),
 * a multi-platform push as one event listing its platforms.
 */
const ADMIN_PASSWORD = 'admin-password-1';
const SECRET = 'package-secret';
let t: TestRegistry;
let receiver: HookReceiver;
let alice: ReturnType<typeof request.agent>;
let receiverUrl: string;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const schema = require('@octokit/webhooks-schemas') as object;
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(schema, 'webhooks');
const validatePublished = ajv.getSchema('webhooks#/definitions/package$published')!;
const validateUpdated = ajv.getSchema('webhooks#/definitions/package$updated')!;

/** The parts of a `package` payload the cases read; the rest is checked by the schema. */
interface PackagePayload {
  action: string;
  package: Record<string, unknown> & { package_version: Record<string, unknown> & { container_metadata: { tag: unknown } } };
  repository?: unknown;
  organization?: unknown;
  sender: { login: string; type: string };
}

beforeAll(async () => {
  receiver = new HookReceiver();
  const url = await receiver.start();
  receiverUrl = url;
  t = await startTestRegistry(
    {
      auth: { ...DEFAULT_CONFIG.auth, mode: 'token', adminPassword: ADMIN_PASSWORD },
      webhooks: { allowedHosts: '127.0.0.1' },
      publicUrl: 'https://registry.example',
    },
    { webhooks: { pollIntervalMs: 50, backoffMs: [100] } },
  );
  expect(
    (await t.http.post('/api/v1/users').auth('admin', ADMIN_PASSWORD).send({ name: 'alice', password: 'alice-password' })).status,
  ).toBe(201);
  expect((await t.http.post('/api/v1/orgs').auth('alice', 'alice-password').send({ name: 'acme' })).status).toBe(201);
  expect((await t.http.post('/api/v1/repositories').auth('alice', 'alice-password').send({ owner: 'acme', name: 'app' })).status).toBe(201);
  alice = request.agent(t.registry.app).auth('alice', 'alice-password');
  const hook = await t.http
    .post('/api/v3/orgs/acme/hooks')
    .auth('alice', 'alice-password')
    .send({ config: { url, content_type: 'json', secret: SECRET }, events: ['package'] });
  expect(hook.status).toBe(201);
  await receiver.waitFor(1);
}, 60_000);
afterAll(async () => {
  await t.close();
  await receiver.close();
});

async function packageEvents(count: number): Promise<ReceivedHook[]> {
  const deadline = Date.now() + 10_000;
  while (receiver.ofEvent('package').length < count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} package events, got ${receiver.ofEvent('package').length}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return receiver.ofEvent('package');
}

async function pushConfigAndLayer(name: string, seed: string, labels: Record<string, string> = {}) {
  const config = blob(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: labels }, seed }));
  const layer = blob(`layer of ${seed}`);
  await pushBlob(alice, name, config);
  await pushBlob(alice, name, layer);
  return imageManifest({
    config: descriptor(config, MediaType.OCI_CONFIG),
    layers: [descriptor(layer, 'application/vnd.oci.image.layer.v1.tar')],
  });
}

it('sends one signed `package` published event for a tagged push, in GitHub shape, then `updated` for another tag', async () => {
  const manifest = await pushConfigAndLayer('acme/app', 'one', {
    'org.opencontainers.image.description': 'the app',
    'org.opencontainers.image.revision': 'abc123',
  });
  // Linked explicitly so that the payload names its repository.
  expect((await t.http.put('/api/v1/packages/acme/app/link').auth('alice', 'alice-password').send({ repository: 'acme/app' })).status).toBe(
    200,
  );
  const pushed = await pushManifest(alice, 'acme/app', 'v1', manifest);
  const [event] = await packageEvents(1);
  expect(event!.headers).toMatchObject({ 'x-github-event': 'package', 'user-agent': expect.stringMatching(/^Berth-Hookshot\//) });
  expect(await verifySignatures(SECRET, [event!])).toEqual([true]);
  const payload = JSON.parse(event!.body) as PackagePayload;
  expect(validatePublished(payload) ? [] : validatePublished.errors).toEqual([]);
  expect(payload.action).toBe('published');
  expect(payload.package).toMatchObject({ name: 'app', namespace: 'acme', package_type: 'CONTAINER', description: 'the app' });
  expect(payload.package.package_version).toMatchObject({
    version: pushed.digest,
    package_url: 'registry.example/acme/app:v1',
    container_metadata: {
      tag: { name: 'v1', digest: pushed.digest },
      labels: { description: 'the app', revision: 'abc123', all_labels: { 'org.opencontainers.image.revision': 'abc123' } },
      manifest: { digest: pushed.digest, media_type: MediaType.OCI_MANIFEST, size: pushed.size, layers: [expect.any(Object)] },
    },
  });
  expect(payload.repository).toMatchObject({ full_name: 'acme/app', private: true });
  expect(payload.organization).toMatchObject({ login: 'acme' });
  // The pusher, not the package's owner (the organisation), as GitHub names who triggered an event.
  expect(payload.sender).toMatchObject({ login: 'alice', type: 'User' });
  expect(payload.package.package_version).toMatchObject({ docker_metadata: [{ tags: ['v1'] }] });
  // GitHub's older SHA-1 signature beside the SHA-256 one, for receivers written before it.
  expect(event!.headers['x-hub-signature']).toBe(`sha1=${createHmac('sha1', SECRET).update(event!.body).digest('hex')}`);

  // The same digest under another tag: `updated`; the same tag again: nothing.
  await pushManifest(alice, 'acme/app', 'latest', manifest);
  await pushManifest(alice, 'acme/app', 'latest', manifest);
  const events = await packageEvents(2);
  const updated = JSON.parse(events[1]!.body) as PackagePayload;
  expect(validateUpdated(updated) ? [] : validateUpdated.errors).toEqual([]);
  expect(updated.action).toBe('updated');
  expect(updated.package.package_version.container_metadata.tag).toEqual({ name: 'latest', digest: pushed.digest });
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(receiver.ofEvent('package')).toHaveLength(2);
  expect(new Set(receiver.ofEvent('package').map((r) => r.headers['x-github-delivery'])).size).toBe(2);
}, 30_000);

it('sends one event for a multi-platform push, listing every platform, none for its platform manifests', async () => {
  const before = receiver.ofEvent('package').length;
  const amd64 = await pushManifest(alice, 'acme/multi', null, await pushConfigAndLayer('acme/multi', 'amd64'));
  const arm64 = await pushManifest(alice, 'acme/multi', null, await pushConfigAndLayer('acme/multi', 'arm64'));
  const index = await pushManifest(
    alice,
    'acme/multi',
    'v2',
    imageIndex([
      amd64.descriptor({ platform: { os: 'linux', architecture: 'amd64' } }),
      arm64.descriptor({ platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }),
    ]),
  );
  const events = await packageEvents(before + 1);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(receiver.ofEvent('package')).toHaveLength(before + 1);
  const payload = JSON.parse(events[before]!.body) as PackagePayload;
  // Not linked to a source repository: GitHub's schema wants a repository, Berth has none to name.
  expect(payload.repository).toBeUndefined();
  expect(payload.action).toBe('published');
  expect(payload.package.package_version.container_metadata).toMatchObject({
    tag: { name: 'v2', digest: index.digest },
    manifest: {
      digest: index.digest,
      media_type: MediaType.OCI_INDEX,
      platforms: [
        { digest: amd64.digest, os: 'linux', architecture: 'amd64' },
        { digest: arm64.digest, os: 'linux', architecture: 'arm64', variant: 'v8' },
      ],
    },
  });
}, 30_000);

it("sends Berth's own events for a deleted tag and a deleted and restored version, to hooks that ask for them", async () => {
  const hook = await t.http
    .post('/api/v3/orgs/acme/hooks')
    .auth('alice', 'alice-password')
    .send({ config: { url: receiverUrl, content_type: 'json', secret: SECRET }, events: ['berth_tag', 'berth_package_version'] });
  expect(hook.status).toBe(201);
  const packagesBefore = receiver.ofEvent('package').length;
  const manifest = await pushConfigAndLayer('acme/gone', 'gone');
  const pushed = await pushManifest(alice, 'acme/gone', 'v1', manifest);
  await pushManifest(alice, 'acme/gone', 'old', manifest);
  expect((await alice.delete('/v2/acme/gone/manifests/old')).status).toBe(202);
  const versions = await t.http.get('/api/v3/orgs/acme/packages/container/gone/versions').auth('alice', 'alice-password');
  const id = versions.body[0].id as number;
  expect((await t.http.delete(`/api/v3/orgs/acme/packages/container/gone/versions/${id}`).auth('alice', 'alice-password')).status).toBe(
    204,
  );
  expect(
    (await t.http.post(`/api/v3/orgs/acme/packages/container/gone/versions/${id}/restore`).auth('alice', 'alice-password')).status,
  ).toBe(204);

  const own = async (count: number) => {
    const deadline = Date.now() + 10_000;
    const received = () => receiver.received.filter((r) => String(r.headers['x-github-event']).startsWith('berth_'));
    while (received().length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} of Berth's events, got ${received().length}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return received();
  };
  const events = await own(3);
  expect(await verifySignatures(SECRET, events)).toEqual([true, true, true]);
  const bodies = events.map((e) => [e.headers['x-github-event'], JSON.parse(e.body) as Record<string, unknown>] as const);
  // Deliveries run side by side, so they may arrive in any order (as GitHub's): compared sorted.
  const kinds = bodies.map(([event, body]) => `${String(event)}:${String(body.action)}`);
  expect([...kinds].sort()).toEqual(['berth_package_version:deleted', 'berth_package_version:restored', 'berth_tag:deleted']);
  const of = (kind: string) => bodies[kinds.indexOf(kind)]![1];
  expect(of('berth_tag:deleted')).toMatchObject({
    tag: { name: 'old', digest: pushed.digest },
    package: { name: 'gone', namespace: 'acme' },
  });
  expect(of('berth_package_version:deleted')).toMatchObject({ package_version: { id, version: pushed.digest } });
  expect(of('berth_package_version:restored')).toMatchObject({ package_version: { id, version: pushed.digest } });
  for (const [, body] of bodies) expect(body.sender).toMatchObject({ login: 'alice' });
  // The package hook asked for `package` only: two pushes of one digest in one burst, one `published` event.
  const [published] = (await packageEvents(packagesBefore + 1)).slice(packagesBefore);
  expect((JSON.parse(published!.body) as { package: { package_version: unknown } }).package.package_version).toMatchObject({
    docker_metadata: [{ tags: ['v1', 'old'] }],
  });
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(receiver.ofEvent('package')).toHaveLength(packagesBefore + 1);
}, 30_000);

it("sends Berth's berth_package event when a package's visibility changes and when it is deleted and restored", async () => {
  const hook = await t.http
    .post('/api/v3/orgs/acme/hooks')
    .auth('alice', 'alice-password')
    .send({ config: { url: receiverUrl, content_type: 'json', secret: SECRET }, events: ['berth_package'] });
  expect(hook.status).toBe(201);
  await pushManifest(alice, 'acme/shown', 'v1', await pushConfigAndLayer('acme/shown', 'shown'));
  expect((await t.http.patch('/api/v1/packages/acme/shown').auth('alice', 'alice-password').send({ visibility: 'public' })).status).toBe(
    200,
  );
  expect((await t.http.delete('/api/v3/orgs/acme/packages/container/shown').auth('alice', 'alice-password')).status).toBe(204);
  expect((await t.http.post('/api/v3/orgs/acme/packages/container/shown/restore').auth('alice', 'alice-password')).status).toBe(204);
  const deadline = Date.now() + 10_000;
  const received = () => receiver.ofEvent('berth_package');
  while (received().length < 3) {
    if (Date.now() > deadline) throw new Error(`expected 3 berth_package events, got ${received().length}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(await verifySignatures(SECRET, received())).toEqual([true, true, true]);
  const bodies = received().map((r) => JSON.parse(r.body) as { action: string; visibility?: string; package: { name: string } });
  // In any order, as deliveries run side by side.
  expect(bodies.map((b) => [b.action, b.visibility ?? null, b.package.name]).sort()).toEqual([
    ['deleted', null, 'shown'],
    ['restored', null, 'shown'],
    ['visibility_changed', 'public', 'shown'],
  ]);

  // A promotion (here to another package; to another registry the same) is a berth_package `promoted` event.
  const promoted = await t.http
    .post('/api/v1/packages/acme/shown/promote')
    .auth('alice', 'alice-password')
    .send({ source: 'v1', target: 'acme/shown-release:1.0' });
  expect(promoted.status).toBe(201);
  while (received().length < 4) {
    if (Date.now() > deadline + 10_000) throw new Error(`expected a berth_package promoted event, got ${received().length} events`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const event = received().find((r) => (JSON.parse(r.body) as { action: string }).action === 'promoted');
  expect(event && JSON.parse(event.body)).toMatchObject({
    action: 'promoted',
    promotion: { digest: promoted.body.digest, target: 'acme/shown-release:1.0' },
    package: { name: 'shown', namespace: 'acme' },
  });
}, 40_000);

it('folds the tags of one burst into one `published` event: tag pushes right after a push by digest, and `?tag=` parameters', async () => {
  // The earlier cases' events may still arrive: only this package's count.
  const ofBurst = () =>
    receiver.ofEvent('package').filter((e) => (JSON.parse(e.body) as { package: { name: string } }).package.name === 'burst');
  const burstEvents = async (count: number) => {
    const deadline = Date.now() + 10_000;
    while (ofBurst().length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} events of acme/burst, got ${ofBurst().length}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return ofBurst();
  };
  const manifest = await pushConfigAndLayer('acme/burst', 'burst');
  // Linked, so that the payload has the repository GitHub's schema requires.
  expect(
    (await t.http.put('/api/v1/packages/acme/burst/link').auth('alice', 'alice-password').send({ repository: 'acme/app' })).status,
  ).toBe(200);
  // A push by digest, then the same manifest under two tags at once (as `docker buildx --push -t … -t …`).
  const byDigest = await pushManifest(alice, 'acme/burst', null, manifest);
  const tagged = await putManifest(
    alice,
    'acme/burst',
    `${byDigest.digest}?tag=1.0.0&tag=latest`,
    byDigest.content,
    MediaType.OCI_MANIFEST,
  );
  expect(tagged.status).toBe(201);
  await pushManifest(alice, 'acme/burst', '1.0', manifest);
  const [event] = await burstEvents(1);
  const payload = JSON.parse(event!.body) as PackagePayload;
  expect(validatePublished(payload) ? [] : validatePublished.errors).toEqual([]);
  expect(payload.action).toBe('published');
  expect(payload.package.package_version).toMatchObject({
    version: byDigest.digest,
    docker_metadata: [{ tags: ['1.0.0', 'latest', '1.0'] }],
    container_metadata: { tag: { name: '1.0.0', digest: byDigest.digest } },
  });
  // Nothing more for the burst's other pushes, then `updated` for a tag pushed after it closed.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(ofBurst()).toHaveLength(1);
  await pushManifest(alice, 'acme/burst', 'stable', manifest);
  const [, later] = await burstEvents(2);
  expect(JSON.parse(later!.body)).toMatchObject({
    action: 'updated',
    package: { package_version: { docker_metadata: [{ tags: ['stable'] }] } },
  });
}, 30_000);

it('announces a retention run’s deletes as a user’s delete is announced (berth_package_version deleted)', async () => {
  const hook = await t.http
    .post('/api/v3/orgs/acme/hooks')
    .auth('alice', 'alice-password')
    .send({ config: { url: receiverUrl, content_type: 'json', secret: SECRET }, events: ['berth_package_version'] });
  expect(hook.status).toBe(201);
  const ours = () =>
    receiver.received.filter(
      (r) => String(r.headers['x-github-hook-id']) === String(hook.body.id) && r.headers['x-github-event'] === 'berth_package_version',
    );
  const older = await pushManifest(alice, 'acme/retained', 'v1', await pushConfigAndLayer('acme/retained', 'retained v1'));
  await pushManifest(alice, 'acme/retained', 'v2', await pushConfigAndLayer('acme/retained', 'retained v2'));
  const policy = await t.http
    .put('/api/v1/packages/acme/retained/retention-policy')
    .auth('alice', 'alice-password')
    .send({ keep_tagged: [{ pattern: 'v*', count: 1 }] });
  expect(policy.status).toBe(200);
  const run = await t.http.post('/api/v1/packages/acme/retained/retention-runs').auth('alice', 'alice-password');
  expect(run.body).toMatchObject({ deleted: 1 });
  const deadline = Date.now() + 10_000;
  while (ours().length < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  const [event] = ours();
  expect(await verifySignatures(SECRET, [event!])).toEqual([true]);
  // No account acted: the payload's sender is the package's owner, as for any change without an actor.
  expect(JSON.parse(event!.body)).toMatchObject({
    action: 'deleted',
    package_version: { version: older.digest },
    sender: { login: 'acme' },
  });
}, 30_000);
