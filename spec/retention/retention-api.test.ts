import { DEFAULT_CONFIG } from '../../src/config';
import { MediaType } from '../../src/oci/media-types';
import { RetentionRunning } from '../../src/retention/errors';
import { expectApiError } from '../support/http';
import { blob, descriptor, EMPTY_CONFIG, imageIndex, imageManifest, serialize, type TestBlob } from '../support/oci';
import { startTestRegistry, type TestRegistry } from '../support/registry';

/**
 * Retention policies (issue #22) through the API, over manifests pushed through the registry: what a dry run
 * lists and why, a real run's soft deletes (restorable, in the audit log as `retention`), an index kept with its
 * platforms and signature, a package policy overriding its owner's, and who may manage policies.
 */
const ADMIN_PASSWORD = 'admin-password-1';
const DAY_MS = 86_400_000;
let t: TestRegistry;
/** How far the tests move the versions' clock (retention judges ages by it): untagged pushes become old. */
let clockAhead = 0;
const password = (name: string) => (name === 'admin' ? ADMIN_PASSWORD : `${name}-password`);
const as = (name: string) => ({
  get: (path: string) => t.http.get(path).auth(name, password(name)),
  put: (path: string, body: object) => t.http.put(path).auth(name, password(name)).send(body),
  post: (path: string, body: object = {}) => t.http.post(path).auth(name, password(name)).send(body),
  delete: (path: string) => t.http.delete(path).auth(name, password(name)),
});

async function pushBlob(name: string, b: TestBlob): Promise<void> {
  const res = await t.http
    .post(`/v2/${name}/blobs/uploads/?digest=${b.digest}`)
    .auth('alice', password('alice'))
    .set('Content-Type', 'application/octet-stream')
    .send(b.content);
  expect(res.status).toBe(201);
}

async function pushManifest(name: string, reference: string | null, manifest: Record<string, unknown>) {
  const s = serialize(manifest);
  const res = await t.http
    .put(`/v2/${name}/manifests/${reference ?? s.digest}`)
    .auth('alice', password('alice'))
    .set('Content-Type', s.mediaType)
    .serialize((body: Buffer) => body as unknown as string)
    .send(s.content);
  expect(res.status).toBe(201);
  return s;
}

async function pushImage(name: string, seed: string, tag: string | null) {
  const layer = blob(`layer ${seed}`);
  await pushBlob(name, EMPTY_CONFIG);
  await pushBlob(name, layer);
  const config = descriptor(EMPTY_CONFIG, MediaType.OCI_CONFIG);
  return pushManifest(name, tag, imageManifest({ config, layers: [descriptor(layer, 'application/vnd.oci.image.layer.v1.tar')] }));
}

/** A two-platform index tagged `tag` with a cosign-style signature (an untagged referrer of the index). */
async function pushSignedIndex(name: string, seed: string, tag: string) {
  const amd = await pushImage(name, `${seed} amd64`, null);
  const arm = await pushImage(name, `${seed} arm64`, null);
  const index = await pushManifest(
    name,
    tag,
    imageIndex([
      amd.descriptor({ platform: { os: 'linux', architecture: 'amd64' } }),
      arm.descriptor({ platform: { os: 'linux', architecture: 'arm64' } }),
    ]),
  );
  const payload = blob(`signature ${seed}`);
  await pushBlob(name, payload);
  const signature = await pushManifest(
    name,
    null,
    imageManifest({
      artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
      config: descriptor(EMPTY_CONFIG, MediaType.OCI_EMPTY),
      layers: [descriptor(payload, 'application/vnd.dev.cosign.simplesigning.v1+json')],
      subject: index.descriptor(),
    }),
  );
  return { index: index.digest, children: [amd.digest, arm.digest], signature: signature.digest };
}

interface Decision {
  id: number;
  digest: string;
  tags: string[];
  reason: string;
}
interface Report {
  dry_run: boolean;
  deleted: number;
  kept: number;
  failed: number;
  packages: Array<{ name: string; policy: Record<string, string>; delete: Decision[]; keep: Decision[]; failed: unknown[] }>;
}

const manifestStatus = async (name: string, reference: string) =>
  (await as('alice').get(`/v2/${name}/manifests/${reference}`).set('Accept', `${MediaType.OCI_MANIFEST}, ${MediaType.OCI_INDEX}`)).status;

let fixture: {
  old: Awaited<ReturnType<typeof pushSignedIndex>>;
  kept: Awaited<ReturnType<typeof pushSignedIndex>>;
  loose: string;
  v090: string;
  exemptLoose: string;
};

beforeAll(async () => {
  t = await startTestRegistry(
    { auth: { ...DEFAULT_CONFIG.auth, mode: 'token', adminPassword: ADMIN_PASSWORD } },
    { versionClock: () => Date.now() + clockAhead },
  );
  for (const name of ['alice', 'bob']) {
    expect(
      (
        await t.http
          .post('/api/v1/users')
          .auth('admin', ADMIN_PASSWORD)
          .send({ name, password: password(name) })
      ).status,
    ).toBe(201);
  }
  expect((await as('alice').post('/api/v1/orgs', { name: 'acme' })).status).toBe(201);
  // Oldest first: the order is the versions' recency.
  await pushImage('acme/app', 'pinned', 'v0.6.0');
  await pushImage('acme/app', 'pulled', 'v0.7.0');
  const old = await pushSignedIndex('acme/app', 'old', 'v0.8.0');
  const v090 = (await pushImage('acme/app', 'nine', 'v0.9.0')).digest;
  await pushImage('acme/app', 'highest', 'v1.2.0');
  await pushImage('acme/app', 'excluded', 'v1.0.0');
  await pushImage('acme/app', 'newest', 'v1.1.0');
  const loose = (await pushImage('acme/app', 'loose', null)).digest;
  const kept = await pushSignedIndex('acme/app', 'multi', 'multi');
  // acme/exempt: a package policy without deleting rules takes it out of the organisation's.
  await pushImage('acme/exempt', 'exempt', 'v0.1.0');
  const exemptLoose = (await pushImage('acme/exempt', 'exempt loose', null)).digest;
  fixture = { old, kept, loose, v090, exemptLoose };
  expect((await as('alice').post('/api/v1/immutable-tag-rules', { package: 'acme/app', pattern: 'v0.6.*' })).status).toBe(201);
  expect(await manifestStatus('acme/app', 'v0.7.0')).toBe(200);
  await t.registry.downloads.flush();
  clockAhead = 10 * DAY_MS;
});
afterAll(() => t.close());

const ORG_POLICY = {
  keep_tagged: [{ pattern: 'v*', count: 1 }],
  delete_untagged_after_days: 7,
  keep_highest_semver: true,
  keep_pulled_within_days: 30,
  exclude_tags: ['v1.0.*'],
};

describe('retention policies', () => {
  it('are set, read and removed by the namespace’s managers, per organisation and per package', async () => {
    expectApiError(await as('alice').get('/api/v1/orgs/acme/retention-policy'), 404, 'NOT_FOUND');
    const put = await as('alice').put('/api/v1/orgs/acme/retention-policy', ORG_POLICY);
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ organisation: 'acme', ...ORG_POLICY, detach_referrers: false, updated_at: expect.any(String) });
    expect((await as('alice').get('/api/v1/orgs/acme/retention-policy')).body).toEqual(put.body);
    const exempt = await as('alice').put('/api/v1/packages/acme/exempt/retention-policy', {});
    expect(exempt.status).toBe(200);
    expect(exempt.body).toMatchObject({ package: 'acme/exempt', keep_tagged: [], delete_untagged_after_days: null });

    expect((await as('bob').put('/api/v1/users/bob/retention-policy', { delete_untagged_after_days: 1 })).status).toBe(200);
    expect((await as('bob').delete('/api/v1/users/bob/retention-policy')).status).toBe(204);
    expectApiError(await as('bob').delete('/api/v1/users/bob/retention-policy'), 404, 'NOT_FOUND');
  });

  it('refuses strangers, anonymous callers, the wrong kind of account and bad rules', async () => {
    expectApiError(await as('bob').get('/api/v1/orgs/acme/retention-policy'), 403, 'FORBIDDEN');
    expectApiError(await as('bob').put('/api/v1/orgs/acme/retention-policy', ORG_POLICY), 403, 'FORBIDDEN');
    expectApiError(await as('bob').post('/api/v1/orgs/acme/retention-runs?dry_run=true'), 403, 'FORBIDDEN');
    expectApiError(await as('bob').put('/api/v1/packages/acme/app/retention-policy', {}), 403, 'FORBIDDEN');
    expectApiError(await as('bob').put('/api/v1/users/alice/retention-policy', {}), 403, 'FORBIDDEN');
    expectApiError(await t.http.get('/api/v1/orgs/acme/retention-policy'), 401, 'UNAUTHORIZED');
    expectApiError(await as('alice').get('/api/v1/users/acme/retention-policy'), 404, 'ACCOUNT_NOT_FOUND');
    expectApiError(await as('alice').get('/api/v1/packages/acme/none/retention-policy'), 404, 'PACKAGE_NOT_FOUND');
    const bad = [
      { keep_tagged: [{ pattern: '<script>', count: 1 }] },
      { exclude_tags: ['a b'] },
      { keep_pulled_within_days: 365 },
      { delete_untagged_after_days: 0 },
      { keep_tagged: [{ pattern: 'v*' }] },
      { unknown: true },
    ];
    for (const body of bad) expectApiError(await as('alice').put('/api/v1/orgs/acme/retention-policy', body), 400, 'REQUEST_INVALID');
    expectApiError(await as('alice').post('/api/v1/orgs/acme/retention-runs?dry_run=maybe'), 400, 'REQUEST_INVALID');
  });

  it('dry run: lists what it would delete with why, and deletes nothing', async () => {
    const res = await as('alice').post('/api/v1/orgs/acme/retention-runs?dry_run=true');
    expect(res.status).toBe(200);
    const report = res.body as Report;
    expect(report).toMatchObject({ dry_run: true, deleted: 6, failed: 0 });
    expect(report.packages.map((p) => p.name)).toEqual(['acme/app']);
    const app = report.packages[0]!;
    expect(app.policy).toEqual({ owner: 'acme' });
    const reasons = Object.fromEntries(app.delete.map((d) => [d.digest, d.reason]));
    expect(reasons).toEqual({
      [fixture.v090]: 'beyond the 1 most recent matching v*',
      [fixture.old.index]: 'beyond the 1 most recent matching v*',
      [fixture.old.children[0]!]: expect.stringMatching(/^in deleted index \d+$/),
      [fixture.old.children[1]!]: expect.stringMatching(/^in deleted index \d+$/),
      [fixture.old.signature]: expect.stringMatching(/^referrer of deleted version \d+$/),
      [fixture.loose]: 'untagged, 10 days old',
    });
    const keep = Object.fromEntries(app.keep.map((d) => [d.tags[0] ?? d.digest, d.reason]));
    expect(keep).toMatchObject({
      'v0.6.0': expect.stringMatching(/^immutable: /),
      'v0.7.0': 'pulled within the last 30 days',
      'v1.2.0': 'highest semver tag v1.2.0',
      'v1.0.0': 'tag v1.0.0 matches excluded v1.0.*',
      'v1.1.0': 'one of the 1 most recent matching v*',
      multi: 'tagged multi, which no keepTagged pattern matches',
      [fixture.kept.children[0]!]: expect.stringMatching(/^in kept index \d+$/),
      [fixture.kept.children[1]!]: expect.stringMatching(/^in kept index \d+$/),
      [fixture.kept.signature]: expect.stringMatching(/^referrer of kept version \d+$/),
    });
    for (const digest of Object.keys(reasons)) expect(await manifestStatus('acme/app', digest)).toBe(200);
    expect(await manifestStatus('acme/exempt', fixture.exemptLoose)).toBe(200);
  });

  it('one real run at a time', async () => {
    const runs = await Promise.allSettled([
      t.registry.retention!.run({ repository: 'acme/exempt' }, { dryRun: false }),
      t.registry.retention!.run({ repository: 'acme/exempt' }, { dryRun: false }),
    ]);
    expect(runs.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(runs.find((r) => r.status === 'rejected')).toMatchObject({ reason: expect.any(RetentionRunning) });
  });

  it('a real run soft-deletes through the delete path: restorable, in the audit log as retention', async () => {
    const res = await as('alice').post('/api/v1/orgs/acme/retention-runs');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ dry_run: false, deleted: 6, failed: 0 });
    const deleted = (res.body as Report).packages[0]!.delete;
    for (const d of deleted) expect(await manifestStatus('acme/app', d.digest)).toBe(404);
    expect(await manifestStatus('acme/app', 'v0.9.0')).toBe(404);
    expect(await manifestStatus('acme/app', 'v0.8.0')).toBe(404);
    for (const tag of ['v0.6.0', 'v0.7.0', 'v1.0.0', 'v1.1.0', 'v1.2.0', 'multi', ...fixture.kept.children, fixture.kept.signature]) {
      expect(await manifestStatus('acme/app', tag)).toBe(200);
    }
    const referrers = await as('alice').get(`/v2/acme/app/referrers/${fixture.kept.index}`);
    expect(referrers.body.manifests.map((m: { digest: string }) => m.digest)).toEqual([fixture.kept.signature]);
    expect(await manifestStatus('acme/exempt', fixture.exemptLoose)).toBe(200);
    // A second run finds nothing more to delete.
    expect((await as('alice').post('/api/v1/orgs/acme/retention-runs')).body).toMatchObject({ deleted: 0, failed: 0 });

    const log = (await as('alice').get('/api/v1/orgs/acme/audit-log?action=version.delete&per_page=100')).body as Array<{
      actor: Record<string, unknown>;
      target: { package?: string };
      details: { versions: string[] };
    }>;
    expect(log.every((e) => e.target.package === 'acme/app')).toBe(true);
    expect(
      log
        .flatMap((e) => e.details.versions)
        .map(Number)
        .sort(),
    ).toEqual(deleted.map((d) => d.id).sort());
    for (const e of log) expect(e.actor).toMatchObject({ kind: 'system', name: 'retention' });

    const versions = `/api/v3/orgs/acme/packages/container/app/versions`;
    const index = deleted.find((d) => d.digest === fixture.old.index)!;
    expect((await as('alice').post(`${versions}/${index.id}/restore`)).status).toBe(204);
    expect(await manifestStatus('acme/app', 'v0.8.0')).toBe(200);
    for (const digest of [...fixture.old.children, fixture.old.signature]) expect(await manifestStatus('acme/app', digest)).toBe(200);
    const nine = deleted.find((d) => d.digest === fixture.v090)!;
    expect((await as('alice').post(`${versions}/${nine.id}/restore`)).status).toBe(204);
    expect(await manifestStatus('acme/app', 'v0.9.0')).toBe(200);
  });
});
