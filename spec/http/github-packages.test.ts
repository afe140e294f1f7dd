import { DEFAULT_CONFIG } from '../../src/config';
import { MediaType } from '../../src/oci/media-types';
import { blob, descriptor, EMPTY_CONFIG, imageIndex, imageManifest, serialize, type TestBlob } from '../support/oci';
import { startTestRegistry, type TestRegistry } from '../support/registry';

/**
 * GitHub's packages API at /api/v3 (issue #15): shapes, paging, permissions,
 * soft deletes and restores, and bad input answered with GitHub's error JSON.
 */
const ADMIN_PASSWORD = 'admin-password-1';
let t: TestRegistry;
/** How far the restore window tests have moved the versions API's clock ahead. */
let clockAhead = 0;
const password = (name: string) => (name === 'admin' ? ADMIN_PASSWORD : `${name}-password`);
const as = (name: string) => ({
  get: (path: string) => t.http.get(path).auth(name, password(name)),
  post: (path: string, body: object = {}) => t.http.post(path).auth(name, password(name)).send(body),
  delete: (path: string) => t.http.delete(path).auth(name, password(name)),
});

async function pushBlobAs(user: string, name: string, b: TestBlob): Promise<void> {
  const res = await t.http
    .post(`/v2/${name}/blobs/uploads/?digest=${b.digest}`)
    .auth(user, password(user))
    .set('Content-Type', 'application/octet-stream')
    .send(b.content);
  expect(res.status).toBe(201);
}

async function pushManifestAs(user: string, name: string, reference: string | null, manifest: Record<string, unknown>) {
  const s = serialize(manifest);
  const res = await t.http
    .put(`/v2/${name}/manifests/${reference ?? s.digest}`)
    .auth(user, password(user))
    .set('Content-Type', s.mediaType)
    .serialize((body: Buffer) => body as unknown as string)
    .send(s.content);
  expect(res.status).toBe(201);
  return s;
}

async function pushImage(user: string, name: string, seed: string, tag: string | null) {
  const layer = blob(`layer ${seed}`);
  await pushBlobAs(user, name, EMPTY_CONFIG);
  await pushBlobAs(user, name, layer);
  const config = descriptor(EMPTY_CONFIG, MediaType.OCI_CONFIG);
  return pushManifestAs(user, name, tag, imageManifest({ config, layers: [descriptor(layer, 'application/vnd.oci.image.layer.v1.tar')] }));
}

function expectGitHubError(res: { status: number; body: unknown }, status: number): void {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ message: expect.any(String), documentation_url: expect.stringMatching(/^https:\/\/docs\.github\.com\//) });
}

/** Supertest serves each request on a port of its own: absolute URLs are compared without it. */
const portless = (body: unknown): unknown => JSON.parse(JSON.stringify(body).replace(/127\.0\.0\.1:\d+/g, 'host'));

const versionsOf = (owner: string, name: string) => `/api/v3/orgs/${owner}/packages/container/${encodeURIComponent(name)}/versions`;

beforeAll(async () => {
  t = await startTestRegistry(
    {
      auth: { ...DEFAULT_CONFIG.auth, mode: 'token', adminPassword: ADMIN_PASSWORD },
      // A week instead of GitHub's 30 days: the window is configurable (BERTH_RESTORE_WINDOW_DAYS).
      versions: { restoreWindowDays: 7 },
    },
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
  // acme/tools/app: a tagged image, an untagged one, and a two-platform index tagged `multi` with a signature.
  await pushImage('alice', 'acme/tools/app', 'one', 'v1');
  await pushImage('alice', 'acme/tools/app', 'loose', null);
  const amd = await pushImage('alice', 'acme/tools/app', 'amd64', null);
  const arm = await pushImage('alice', 'acme/tools/app', 'arm64', null);
  const index = await pushManifestAs(
    'alice',
    'acme/tools/app',
    'multi',
    imageIndex([
      amd.descriptor({ platform: { os: 'linux', architecture: 'amd64' } }),
      arm.descriptor({ platform: { os: 'linux', architecture: 'arm64' } }),
    ]),
  );
  await pushManifestAs(
    'alice',
    'acme/tools/app',
    null,
    imageManifest({
      artifactType: 'application/vnd.dev.cosign',
      config: descriptor(EMPTY_CONFIG, MediaType.OCI_EMPTY),
      subject: index.descriptor(),
    }),
  );
  await pushImage('alice', 'alice/own', 'mine', 'latest');
});
afterAll(() => t.close());

describe('GitHub shapes', () => {
  it('lists an organisation’s and a user’s packages, with GitHub’s headers', async () => {
    const res = await as('alice').get('/api/v3/orgs/acme/packages?package_type=container');
    expect(res.status).toBe(200);
    // A full sign-in holds every scope, the hook scopes included (it may manage hooks).
    expect(res.headers['x-oauth-scopes']).toBe('read:packages, write:packages, delete:packages, admin:org_hook, admin:repo_hook');
    expect(res.headers['x-ratelimit-limit']).toBe('5000');
    expect(res.headers['x-ratelimit-remaining']).toBe('5000');
    expect(res.body).toEqual([
      {
        id: expect.any(Number),
        name: 'tools/app',
        package_type: 'container',
        owner: expect.objectContaining({ login: 'acme', id: expect.any(Number), type: 'Organization' }),
        version_count: 6,
        visibility: 'private',
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/api\/v3\/orgs\/acme\/packages\/container\/tools%2Fapp$/),
        html_url: expect.stringMatching(/^http:\/\//),
        repository: null,
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      },
    ]);
    const mine = await as('alice').get('/api/v3/user/packages?package_type=container');
    expect(mine.body.map((p: { name: string }) => p.name)).toEqual(['own']);
    expect(portless((await as('alice').get('/api/v3/users/alice/packages?package_type=container')).body)).toEqual(portless(mine.body));
    expect((await as('bob').get('/api/v3/orgs/acme/packages?package_type=container')).body).toEqual([]);
    expect((await as('alice').get('/api/v3/orgs/acme/packages?package_type=npm')).body).toEqual([]);
    expect((await as('alice').get('/api/v3/user')).body).toMatchObject({ login: 'alice', type: 'User' });
    expect((await as('alice').get('/api/v3/users/acme')).body).toMatchObject({ login: 'acme', type: 'Organization' });
    expect((await t.http.get('/api/v3/rate_limit')).body.resources.core).toMatchObject({ limit: 5000, remaining: 5000 });
  });

  it('takes tokens as Bearer, `token` and Basic, and names their scopes', async () => {
    const created = await as('alice').post('/api/v1/tokens', { name: 'read', scopes: ['read:packages'] });
    expect(created.status).toBe(201);
    const secret = created.body.token as string;
    for (const header of [`Bearer ${secret}`, `token ${secret}`]) {
      const res = await t.http.get('/api/v3/orgs/acme/packages/container/tools%2Fapp').set('Authorization', header);
      expect(res.status).toBe(200);
      expect(res.headers['x-oauth-scopes']).toBe('read:packages');
    }
    expect((await t.http.get('/api/v3/orgs/acme/packages/container/tools%2Fapp').auth('alice', secret)).status).toBe(200);
    // A read-only token may not delete, whatever its user may.
    const versions = await as('alice').get(versionsOf('acme', 'tools/app'));
    const refused = await t.http
      .delete(`${versionsOf('acme', 'tools/app')}/${versions.body[0].id}`)
      .set('Authorization', `token ${secret}`);
    expectGitHubError(refused, 403);
  });

  it('lists versions newest first with Berth’s facts, filtered by tagged, digest and orphaned', async () => {
    const res = await as('alice').get(versionsOf('acme', 'tools/app'));
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(6);
    const ids = res.body.map((v: { id: number }) => v.id);
    expect(ids).toEqual([...ids].sort((a: number, b: number) => b - a));
    const index = res.body.find((v: { metadata: { container: { tags: string[] } } }) => v.metadata.container.tags.includes('multi'));
    expect(index).toEqual({
      id: expect.any(Number),
      name: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      url: expect.stringMatching(new RegExp(`/api/v3/orgs/acme/packages/container/tools%2Fapp/versions/${index.id}$`)),
      package_html_url: expect.any(String),
      html_url: expect.any(String),
      license: null,
      description: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
      metadata: {
        package_type: 'container',
        container: {
          tags: ['multi'],
          berth: {
            media_type: MediaType.OCI_INDEX,
            artifact_type: null,
            subject: null,
            platform: null,
            size: expect.any(Number),
            parents: [],
            referrers: { 'application/vnd.dev.cosign': [{ id: expect.any(Number), digest: expect.any(String) }] },
          },
        },
      },
    });
    const children = res.body.filter(
      (v: { metadata: { container: { berth: { parents: unknown[] } } } }) => v.metadata.container.berth.parents.length > 0,
    );
    expect(
      children
        .map(
          (c: { metadata: { container: { berth: { platform: { architecture: string } } } } }) =>
            c.metadata.container.berth.platform.architecture,
        )
        .sort(),
    ).toEqual(['amd64', 'arm64']);
    expect((await as('alice').get(`${versionsOf('acme', 'tools/app')}?tagged=true`)).body).toHaveLength(2);
    expect((await as('alice').get(`${versionsOf('acme', 'tools/app')}?tagged=false`)).body).toHaveLength(4);
    const orphans = await as('alice').get(`${versionsOf('acme', 'tools/app')}?orphaned=true`);
    expect(orphans.body).toHaveLength(1);
    const byDigest = await as('alice').get(`${versionsOf('acme', 'tools/app')}?digest=${index.name}`);
    expect(byDigest.body.map((v: { id: number }) => v.id)).toEqual([index.id]);
    expect(portless((await as('alice').get(`${versionsOf('acme', 'tools/app')}/${index.id}`)).body)).toEqual(portless(index));
  });

  it('pages with absolute Link headers; a page past the end is []', async () => {
    const first = await as('alice').get(`${versionsOf('acme', 'tools/app')}?per_page=4`);
    expect(first.body).toHaveLength(4);
    const link = first.headers.link as string;
    expect(link).toMatch(
      /<http:\/\/127\.0\.0\.1:\d+\/api\/v3\/orgs\/acme\/packages\/container\/tools%2Fapp\/versions\?per_page=4&page=2>; rel="next"/,
    );
    expect(link).toMatch(/page=2>; rel="last"/);
    expect(link).toMatch(/page=1>; rel="first"/);
    const second = await as('alice').get(`${versionsOf('acme', 'tools/app')}?per_page=4&page=2`);
    expect(second.body).toHaveLength(2);
    expect(second.headers.link).toMatch(/page=1>; rel="prev"/);
    expect((await as('alice').get(`${versionsOf('acme', 'tools/app')}?per_page=4&page=9`)).body).toEqual([]);
  });
});

describe('deletes and restores', () => {
  it('refuses to delete a platform of a live index (422 naming it), deletes and restores a tree', async () => {
    const versions = (await as('alice').get(versionsOf('acme', 'tools/app'))).body as Array<{
      id: number;
      name: string;
      metadata: { container: { tags: string[]; berth: { parents: Array<{ digest: string }> } } };
    }>;
    const child = versions.find((v) => v.metadata.container.berth.parents.length > 0)!;
    const index = versions.find((v) => v.metadata.container.tags.includes('multi'))!;
    const refused = await as('alice').delete(`${versionsOf('acme', 'tools/app')}/${child.id}`);
    expectGitHubError(refused, 422);
    expect(refused.body.message).toContain(index.name);
    expectGitHubError(await as('bob').delete(`${versionsOf('acme', 'tools/app')}/${index.id}`), 404);
    expect((await as('alice').delete(`${versionsOf('acme', 'tools/app')}/${index.id}?tree=true`)).status).toBe(204);
    expect((await as('alice').get(`/v2/acme/tools/app/manifests/multi`)).status).toBe(404);
    expect((await as('alice').get(`/v2/acme/tools/app/manifests/${child.name}`)).status).toBe(404);
    const deleted = await as('alice').get(`${versionsOf('acme', 'tools/app')}?state=deleted`);
    expect(deleted.body).toHaveLength(4);
    expect(deleted.body.every((v: { deleted_at?: string }) => typeof v.deleted_at === 'string')).toBe(true);
    expect((await as('alice').post(`${versionsOf('acme', 'tools/app')}/${index.id}/restore`)).status).toBe(204);
    expect((await as('alice').get(`/v2/acme/tools/app/manifests/multi`)).status).toBe(200);
    expect((await as('alice').get(`/v2/acme/tools/app/manifests/${child.name}`)).status).toBe(200);
  });

  it("keeps a live image's signature from a cleanup of untagged versions (422 naming the image) unless asked to detach it", async () => {
    const versions = (await as('alice').get(`${versionsOf('acme', 'tools/app')}?tagged=false`)).body as Array<{
      id: number;
      name: string;
      metadata: { container: { berth: { subject: string | null } } };
    }>;
    const signature = versions.find((v) => v.metadata.container.berth.subject !== null)!;
    const subject = signature.metadata.container.berth.subject!;
    const refused = await as('alice').delete(`${versionsOf('acme', 'tools/app')}/${signature.id}`);
    expectGitHubError(refused, 422);
    expect(refused.body.message).toContain(subject);
    const bulk = await as('alice')
      .post(`${versionsOf('acme', 'tools/app')}/delete`)
      .send({ ids: [signature.id] });
    expectGitHubError(bulk, 422);
    const referrers = `/v2/acme/tools/app/referrers/${subject}`;
    expect((await as('alice').get(referrers)).body.manifests).toHaveLength(1);
    expect((await as('alice').delete(`${versionsOf('acme', 'tools/app')}/${signature.id}?detach=true`)).status).toBe(204);
    expect((await as('alice').get(referrers)).body.manifests).toHaveLength(0);
    expect((await as('alice').post(`${versionsOf('acme', 'tools/app')}/${signature.id}/restore`)).status).toBe(204);
    expect((await as('alice').get(referrers)).body.manifests).toHaveLength(1);
  });

  it('deletes many versions in one request, and the last tagged version too', async () => {
    const untagged = (await as('alice').get(`${versionsOf('acme', 'tools/app')}?orphaned=true`)).body as Array<{ id: number }>;
    const tagged = (await as('alice').get(`/api/v3/user/packages/container/own/versions`)).body as Array<{ id: number }>;
    expect(tagged).toHaveLength(1);
    expect((await as('alice').delete(`/api/v3/user/packages/container/own/versions/${tagged[0]!.id}`)).status).toBe(204);
    const bulk = await as('alice').post(`${versionsOf('acme', 'tools/app')}/delete`, { ids: untagged.map((v) => v.id) });
    expect(bulk.status).toBe(200);
    expect(bulk.body).toEqual({ deleted: untagged.map((v) => v.id).sort((a, b) => a - b) });
    expectGitHubError(await as('alice').post(`${versionsOf('acme', 'tools/app')}/delete`, { ids: [] }), 422);
  });

  it('soft-deletes a package and restores it with its versions and tags', async () => {
    const path = '/api/v3/orgs/acme/packages/container/tools%2Fapp';
    const before = (await as('alice').get(`${path}/versions`)).body.length;
    expectGitHubError(await as('bob').delete(path), 404);
    expect((await as('alice').delete(path)).status).toBe(204);
    expectGitHubError(await as('alice').get(path), 404);
    expect((await as('alice').get('/api/v3/orgs/acme/packages?package_type=container')).body).toEqual([]);
    expect((await as('alice').get('/v2/acme/tools/app/manifests/v1')).status).toBe(404);
    expect((await as('alice').post(`${path}/restore`)).status).toBe(204);
    expect((await as('alice').get(`${path}/versions`)).body).toHaveLength(before);
    expect((await as('alice').get('/v2/acme/tools/app/manifests/v1')).status).toBe(200);
    expectGitHubError(await as('alice').post(`${path}/restore`), 404);
  });

  it('records every delete and restore above in the organisation’s audit log, with who did it', async () => {
    const log = (await as('alice').get('/api/v1/orgs/acme/audit-log?per_page=100')).body as Array<{
      action: string;
      actor: { name?: string };
      target: { package?: string };
      details?: Record<string, unknown>;
    }>;
    const about = (action: string) => log.filter((e) => e.action === action && e.target.package === 'acme/tools/app');
    expect(about('version.delete').length).toBeGreaterThanOrEqual(2);
    expect(about('version.delete').find((e) => e.details?.tree === true)!.details!.versions).toHaveLength(4);
    expect(about('version.delete').find((e) => e.details?.detach === true)!.details!.versions).toHaveLength(1);
    expect(about('version.restore')).toHaveLength(2); // the tree, and the detached signature
    expect(about('package.delete')).toHaveLength(1);
    expect(about('package.restore')).toHaveLength(1);
    expect(about('package.delete')[0]!.actor).toMatchObject({ name: 'alice' });
  });
});

describe('single tags', () => {
  it('deletes one tag of a version through the API; the version and its other tags stay', async () => {
    const pushed = await pushImage('alice', 'alice/tags', 'tags', 't1');
    await pushManifestAs('alice', 'alice/tags', 't2', JSON.parse(pushed.content.toString('utf8')) as Record<string, unknown>);
    const path = '/api/v3/user/packages/container/tags/versions';
    const [version] = (await as('alice').get(path)).body as Array<{ id: number; metadata: { container: { tags: string[] } } }>;
    expect(version!.metadata.container.tags).toEqual(['t1', 't2']);
    expectGitHubError(await as('bob').delete(`/api/v3/users/alice/packages/container/tags/versions/${version!.id}/tags/t1`), 404);
    expectGitHubError(await as('alice').delete(`${path}/${version!.id}/tags/-bad`), 422);
    expect((await as('alice').delete(`${path}/${version!.id}/tags/t1`)).status).toBe(204);
    expect((await as('alice').get('/v2/alice/tags/manifests/t1')).status).toBe(404);
    expect((await as('alice').get('/v2/alice/tags/manifests/t2')).status).toBe(200);
    expect((await as('alice').get(`${path}/${version!.id}`)).body.metadata.container.tags).toEqual(['t2']);
    expectGitHubError(await as('alice').delete(`${path}/${version!.id}/tags/t1`), 404);
    expectGitHubError(await as('alice').delete(`${path}/987654/tags/t2`), 404);
    const audit = (await as('alice').get('/api/v1/user/audit-log?action=tag.delete')).body as Array<{ details: { tag: string } }>;
    expect(audit.map((e) => e.details.tag)).toContain('t1');
  });
});

describe('the restore window, and a push into a deleted package', () => {
  const DAY = 86_400_000;
  const window = '/api/v3/user/packages/container/window';
  const versionsOfWindow = async (state: 'active' | 'deleted') =>
    (await as('alice').get(`${window}/versions?state=${state}`)).body as Array<{ id: number; metadata: { container: { tags: string[] } } }>;
  afterEach(() => (clockAhead = 0));

  it('restores a version deleted 6 days ago, not one deleted 8 days ago (404 saying why)', async () => {
    await pushImage('alice', 'alice/window', 'w1', 'v1');
    const [v1] = await versionsOfWindow('active');
    expect((await as('alice').delete(`${window}/versions/${v1!.id}`)).status).toBe(204);
    clockAhead = 6 * DAY;
    expect((await as('alice').post(`${window}/versions/${v1!.id}/restore`)).status).toBe(204);
    expect((await as('alice').delete(`${window}/versions/${v1!.id}`)).status).toBe(204);
    clockAhead = 14 * DAY + 60_000;
    const late = await as('alice').post(`${window}/versions/${v1!.id}/restore`);
    expectGitHubError(late, 404);
    expect(late.body.message).toMatch(/deleted more than 7 days ago/);
    expect((await versionsOfWindow('deleted')).map((v) => v.id)).toEqual([v1!.id]);
  });

  it('a push into a deleted package brings the package back with what was pushed; the deleted versions stay restorable', async () => {
    await pushImage('alice', 'alice/window', 'w2', 'v2');
    expect((await as('alice').delete(window)).status).toBe(204);
    expectGitHubError(await as('alice').get(window), 404);
    expectGitHubError(await as('alice').get(`${window}/versions?state=deleted`), 404);

    await pushImage('alice', 'alice/window', 'w3', 'v3');
    expect((await as('alice').get(window)).status).toBe(200);
    expect((await versionsOfWindow('active')).map((v) => v.metadata.container.tags)).toEqual([['v3']]);
    expect(await versionsOfWindow('deleted')).toHaveLength(2); // v1 (its window closed above) and v2
    // The package is live again: a package restore finds nothing deleted to restore.
    expectGitHubError(await as('alice').post(`${window}/restore`), 404);
    const v2 = (await versionsOfWindow('deleted')).find((v) => v.metadata.container.tags.includes('v2'))!;
    expect((await as('alice').post(`${window}/versions/${v2.id}/restore`)).status).toBe(204);
    expect((await as('alice').get('/v2/alice/window/manifests/v2')).status).toBe(200);
    const audit = (await as('alice').get('/api/v1/user/audit-log?action=package.restore')).body as Array<{ details: { by?: string } }>;
    expect(audit.some((e) => e.details.by === 'push')).toBe(true);
  });

  it('restores a deleted package within the window (GitHub’s `token` parameter accepted), not after it', async () => {
    expect((await as('alice').delete(window)).status).toBe(204);
    expect((await as('alice').post(`${window}/restore?token=anything`)).status).toBe(204);
    expect((await as('alice').get('/v2/alice/window/manifests/v3')).status).toBe(200);
    expect((await as('alice').delete(window)).status).toBe(204);
    clockAhead = 8 * DAY;
    const late = await as('alice').post(`${window}/restore`);
    expectGitHubError(late, 404);
    expect(late.body.message).toMatch(/deleted more than 7 days ago/);
  });
});

describe('bad input gets GitHub’s error JSON, never a 500', () => {
  it.each([
    ['no package_type', '/api/v3/orgs/acme/packages', 400],
    ['an unknown package_type', '/api/v3/orgs/acme/packages?package_type=cargo', 422],
    ['per_page=0', `${versionsOf('acme', 'tools/app')}?per_page=0`, 422],
    ['per_page=100000', `${versionsOf('acme', 'tools/app')}?per_page=100000`, 422],
    ['page=0', `${versionsOf('acme', 'tools/app')}?page=0`, 422],
    ['an unknown state', `${versionsOf('acme', 'tools/app')}?state=gone`, 422],
    ['a malformed digest filter', `${versionsOf('acme', 'tools/app')}?digest=nope`, 422],
    ['an id that is not an integer', `${versionsOf('acme', 'tools/app')}/abc`, 422],
    ['an id too large for one', `${versionsOf('acme', 'tools/app')}/99999999999999999999`, 422],
    ['an unknown id', `${versionsOf('acme', 'tools/app')}/987654`, 404],
    ['a traversal in the name', '/api/v3/orgs/acme/packages/container/..%2F..%2Falice%2Fown', 422],
    ['an unknown package', '/api/v3/orgs/acme/packages/container/nothing', 404],
    ['a package type Berth does not host', '/api/v3/orgs/acme/packages/npm/tools%2Fapp', 404],
    ['an unknown organisation', '/api/v3/orgs/nobody/packages?package_type=container', 404],
    ['a user named as an organisation', '/api/v3/orgs/alice/packages?package_type=container', 404],
    ['an unknown endpoint', '/api/v3/repos/acme/x', 404],
  ])('%s', async (_what, path, status) => {
    expectGitHubError(await as('alice').get(path), status);
  });

  it('asks for credentials on /user and refuses bad ones', async () => {
    expectGitHubError(await t.http.get('/api/v3/user'), 401);
    expectGitHubError(await t.http.get('/api/v3/user').set('Authorization', 'token berth_pat_nope'), 401);
  });
});

describe('immutable tags bind the versions API as they bind the registry (issue #22)', () => {
  type Listed = { id: number; name: string; metadata: { container: { tags: string[] } } };
  const byDigest = async (digest: string): Promise<Listed> => {
    const [listed] = (await as('alice').get(`${versionsOf('acme', 'kept')}?digest=${digest}`)).body as Listed[];
    if (!listed) throw new Error(`no version listed for ${digest}`);
    return listed;
  };

  it('refuses deleting a covered tag, a version carrying one, a tree reaching one and the package', async () => {
    const rule = await as('alice').post('/api/v1/immutable-tag-rules', {
      package: 'acme/kept',
      pattern: '*',
      except: ['edge', 'multi'],
    });
    expect(rule.status).toBe(201);
    const release = await byDigest((await pushImage('alice', 'acme/kept', 'release', 'v1')).digest);
    const edge = await byDigest((await pushImage('alice', 'acme/kept', 'edge', 'edge')).digest);
    const amd = await pushImage('alice', 'acme/kept', 'amd', null);
    const index = await pushManifestAs(
      'alice',
      'acme/kept',
      'multi',
      imageIndex([amd.descriptor({ platform: { os: 'linux', architecture: 'amd64' } })]),
    );
    // Cosign's tag mode: the signature's tag is covered by `*`.
    const signatureTag = `${index.digest.replace(':', '-')}.sig`;
    const signature = await byDigest(
      (
        await pushManifestAs(
          'alice',
          'acme/kept',
          signatureTag,
          imageManifest({
            artifactType: 'application/vnd.dev.cosign',
            config: descriptor(EMPTY_CONFIG, MediaType.OCI_EMPTY),
            subject: index.descriptor(),
          }),
        )
      ).digest,
    );
    const multi = await byDigest(index.digest);

    const refusals = [
      await as('alice').delete(`${versionsOf('acme', 'kept')}/${release.id}`),
      await as('alice').delete(`${versionsOf('acme', 'kept')}/${release.id}/tags/v1`),
      await as('alice').delete(`${versionsOf('acme', 'kept')}/${multi.id}?tree=true`),
      await as('alice').post(`/api/v3/orgs/acme/packages/container/kept/versions/delete`, { ids: [edge.id, release.id] }),
      await as('alice').delete('/api/v3/orgs/acme/packages/container/kept'),
    ];
    for (const refused of refusals) {
      expectGitHubError(refused, 403);
      expect((refused.body as { message: string }).message).toMatch(/immutable/);
    }
    expect((refusals[2]?.body as { message: string }).message).toContain(signatureTag);
    // Nothing went: the bulk delete checked every id before deleting any.
    expect((await byDigest(edge.name)).metadata.container.tags).toEqual(['edge']);
    expect((await as('alice').get(`${versionsOf('acme', 'kept')}/${signature.id}`)).status).toBe(200);

    // A tag no rule covers goes as before.
    expect((await as('alice').delete(`${versionsOf('acme', 'kept')}/${edge.id}/tags/edge`)).status).toBe(204);

    expect((await as('alice').delete(`/api/v1/immutable-tag-rules/${rule.body.id as number}`)).status).toBe(204);
    expect((await as('alice').delete('/api/v3/orgs/acme/packages/container/kept')).status).toBe(204);
  });
});
