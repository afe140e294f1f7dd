import { DEFAULT_CONFIG } from '../../src/config';
import { expectApiError } from '../support/http';
import { blob } from '../support/oci';
import { startTestRegistry, type TestRegistry } from '../support/registry';

/**
 * The management API end to end, as one story on one registry (later steps build on earlier
 * ones): users, organisations, repositories, tokens and packages, as each actor sees them.
 */
const ADMIN_PASSWORD = 'admin-password-1';
let t: TestRegistry;

beforeAll(async () => {
  t = await startTestRegistry({ auth: { ...DEFAULT_CONFIG.auth, mode: 'token', adminPassword: ADMIN_PASSWORD } });
  for (const name of ['alice', 'bob', 'carol']) {
    const res = await t.http
      .post('/api/v1/users')
      .auth('admin', ADMIN_PASSWORD)
      .send({ name, password: `${name}-password` });
    expect(res.status).toBe(201);
  }
});
afterAll(() => t.close());

const as = (name: string) => ({
  get: (path: string) => t.http.get(path).auth(name, password(name)),
  post: (path: string, body: object = {}) => t.http.post(path).auth(name, password(name)).send(body),
  put: (path: string, body: object = {}) => t.http.put(path).auth(name, password(name)).send(body),
  patch: (path: string, body: object = {}) => t.http.patch(path).auth(name, password(name)).send(body),
  delete: (path: string) => t.http.delete(path).auth(name, password(name)),
});
const password = (name: string) => (name === 'admin' ? ADMIN_PASSWORD : `${name}-password`);

/** Pushes one blob with Basic credentials; returns the status. */
async function pushBlobAs(user: string, secret: string, name: string, content: string): Promise<number> {
  const b = blob(content);
  const res = await t.http
    .post(`/v2/${name}/blobs/uploads/?digest=${b.digest}`)
    .auth(user, secret)
    .set('Content-Type', 'application/octet-stream')
    .send(b.content);
  return res.status;
}

describe('users', () => {
  it('are created, listed and deleted by administrators only', async () => {
    expectApiError(await as('alice').post('/api/v1/users', { name: 'eve', password: 'eve-password' }), 403, 'FORBIDDEN');
    expectApiError(await as('alice').get('/api/v1/users'), 403, 'FORBIDDEN');
    expectApiError(await as('admin').post('/api/v1/users', { name: 'alice', password: 'another-one' }), 409, 'ALREADY_EXISTS');
    expectApiError(await as('admin').post('/api/v1/users', { name: 'Not Valid', password: 'another-one' }), 400, 'REQUEST_INVALID');
    expectApiError(await as('admin').post('/api/v1/users', { name: 'x', password: 'pw', extra: true }), 400, 'REQUEST_INVALID');
    const list = await as('admin').get('/api/v1/users');
    expect(list.body.map((u: { name: string }) => u.name)).toEqual(['admin', 'alice', 'bob', 'carol']);

    expect((await as('admin').post('/api/v1/users', { name: 'temp', password: 'temp-password' })).status).toBe(201);
    expectApiError(await as('alice').delete('/api/v1/users/temp'), 403, 'FORBIDDEN');
    expect((await as('admin').delete('/api/v1/users/temp')).status).toBe(204);
    expectApiError(await as('admin').get('/api/v1/users/temp'), 404, 'USER_NOT_FOUND');
    expectApiError(await as('admin').delete('/api/v1/users/admin'), 409, 'CONFLICT');
  });

  it('change their own password with the current one', async () => {
    expect((await as('admin').post('/api/v1/users', { name: 'dave', password: 'dave-password' })).status).toBe(201);
    const path = '/api/v1/users/dave/password';
    expectApiError(await t.http.put(path).auth('dave', 'dave-password').send({ password: 'dave-new-password' }), 403, 'FORBIDDEN');
    expectApiError(await as('alice').put(path, { password: 'hijacked-password' }), 403, 'FORBIDDEN');
    const ok = await t.http
      .put(path)
      .auth('dave', 'dave-password')
      .send({ password: 'dave-new-password', currentPassword: 'dave-password' });
    expect(ok.status).toBe(204);
    expect((await t.http.get('/api/v1/user').auth('dave', 'dave-new-password')).body.name).toBe('dave');
  });
});

describe('organisations', () => {
  it('are created by any user, whose owners manage members', async () => {
    const created = await as('alice').post('/api/v1/orgs', { name: 'acme' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'acme', members: [{ name: 'alice', role: 'owner' }] });
    expectApiError(await as('bob').post('/api/v1/orgs', { name: 'acme' }), 409, 'ALREADY_EXISTS');
    expectApiError(await as('bob').put('/api/v1/orgs/acme/members/carol', { role: 'member' }), 403, 'FORBIDDEN');
    expect((await as('alice').put('/api/v1/orgs/acme/members/bob', { role: 'member' })).status).toBe(200);
    expectApiError(await as('alice').put('/api/v1/orgs/acme/members/bob', { role: 'boss' }), 400, 'REQUEST_INVALID');
    expect((await as('bob').get('/api/v1/orgs')).body).toEqual([expect.objectContaining({ name: 'acme' })]);
    expect((await as('bob').get('/api/v1/orgs/acme')).body.members).toHaveLength(2);
    expect((await as('carol').get('/api/v1/orgs/acme')).body.members).toBeUndefined();
    expectApiError(await as('alice').delete('/api/v1/orgs/acme/members/alice'), 409, 'CONFLICT');
    expect((await as('bob').get('/api/v1/user')).body.orgs).toEqual([{ name: 'acme', role: 'member' }]);
  });
});

describe('repositories', () => {
  it('are created, shown to those who may see them, and administered by their admins', async () => {
    const created = await as('alice').post('/api/v1/repositories', { owner: 'acme', name: 'web' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ owner: 'acme', name: 'web', visibility: 'private', role: 'admin' });
    expectApiError(await as('carol').post('/api/v1/repositories', { owner: 'acme', name: 'intrude' }), 403, 'FORBIDDEN');
    expectApiError(await as('alice').post('/api/v1/repositories', { owner: 'acme', name: 'web' }), 409, 'ALREADY_EXISTS');

    expectApiError(await as('carol').get('/api/v1/repositories/acme/web'), 404, 'REPOSITORY_NOT_FOUND');
    expect((await as('bob').get('/api/v1/repositories/acme/web')).body.role).toBe('read');
    expectApiError(await as('bob').patch('/api/v1/repositories/acme/web', { visibility: 'public' }), 403, 'FORBIDDEN');

    expect((await as('alice').put('/api/v1/repositories/acme/web/collaborators/carol', { role: 'write' })).body).toEqual([
      { name: 'carol', role: 'write' },
    ]);
    expect((await as('carol').get('/api/v1/repositories')).body.map((r: { name: string }) => r.name)).toEqual(['web']);
    expectApiError(await as('carol').get('/api/v1/repositories/acme/web/collaborators'), 403, 'FORBIDDEN');
    expect((await as('alice').get('/api/v1/repositories/acme/web/collaborators')).body).toEqual([{ name: 'carol', role: 'write' }]);

    const patched = await as('alice').patch('/api/v1/repositories/acme/web', { visibility: 'public' });
    expect(patched.body).toMatchObject({ visibility: 'public' });
    expect((await t.http.get('/api/v1/repositories/acme/web')).body).toMatchObject({ visibility: 'public', role: 'none' });
    expect((await as('alice').patch('/api/v1/repositories/acme/web', { visibility: 'private' })).status).toBe(200);
  });
});

describe('tokens', () => {
  it('create a PAT shown once, list it without its secret, and revoke it', async () => {
    const created = await as('bob').post('/api/v1/tokens', {
      name: 'laptop',
      scopes: ['read:packages', 'write:packages'],
      expiresInDays: 7,
    });
    expect(created.status).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    expect(created.body).toMatchObject({ token: expect.stringMatching(/^berth_pat_/), name: 'laptop', kind: 'pat', status: 'active' });

    // The PAT pushes into its user's namespace.
    expect(await pushBlobAs('bob', created.body.token, 'bob/app', 'bob app layer')).toBe(201);
    const listed = await as('bob').get('/api/v1/tokens');
    expect(listed.body).toEqual([expect.objectContaining({ id: created.body.id, lastUsedAt: expect.any(String) })]);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.token);

    // A PAT reads the API but cannot mint more tokens.
    const bearer = `Bearer ${created.body.token}`;
    expect((await t.http.get('/api/v1/tokens').set('Authorization', bearer)).status).toBe(200);
    expectApiError(
      await t.http
        .post('/api/v1/tokens')
        .set('Authorization', bearer)
        .send({ scopes: ['delete:packages'] }),
      403,
      'FORBIDDEN',
    );

    expectApiError(await as('carol').delete(`/api/v1/tokens/${created.body.id}`), 404, 'TOKEN_NOT_FOUND');
    expect((await as('bob').delete(`/api/v1/tokens/${created.body.id}`)).status).toBe(204);
    expect(await pushBlobAs('bob', created.body.token, 'bob/app', 'after revocation')).toBe(401);
    expectApiError(await as('bob').post('/api/v1/tokens', { scopes: ['root'] }), 400, 'REQUEST_INVALID');
    expectApiError(await as('bob').delete('/api/v1/tokens/abc'), 400, 'REQUEST_INVALID');
  });

  it('mint CI tokens for repository admins, which push to packages linked to that repository only', async () => {
    expectApiError(await as('carol').post('/api/v1/repositories/acme/web/ci-tokens', {}), 403, 'FORBIDDEN');
    const minted = await as('alice').post('/api/v1/repositories/acme/web/ci-tokens', { ttlMinutes: 10 });
    expect(minted.status).toBe(201);
    expect(minted.body).toMatchObject({ token: expect.stringMatching(/^berth_ci_/), kind: 'ci', repository: 'acme/web' });
    expect(Date.parse(minted.body.expiresAt) - Date.parse(minted.body.createdAt)).toBe(600_000);
    expectApiError(await as('alice').post('/api/v1/repositories/acme/web/ci-tokens', { ttlMinutes: 100_000 }), 400, 'REQUEST_INVALID');

    // A new package in the repository owner's namespace belongs to the repository from the start.
    expect(await pushBlobAs('ci', minted.body.token, 'acme/web-image', 'ci layer')).toBe(201);
    expect((await as('alice').get('/api/v1/packages/acme/web-image')).body).toMatchObject({ repository: 'acme/web' });
    expect(await pushBlobAs('ci', minted.body.token, 'bob/app', 'outside its repository')).toBe(403);
    // And it administers nothing.
    expectApiError(await t.http.get('/api/v1/tokens').auth('ci', minted.body.token), 403, 'FORBIDDEN');
  });
});

describe('packages', () => {
  it('are listed and shown to those who can pull them', async () => {
    expect((await as('bob').get('/api/v1/packages')).body.map((p: { name: string }) => p.name)).toEqual(['acme/web-image', 'bob/app']);
    expect((await as('carol').get('/api/v1/packages')).body.map((p: { name: string }) => p.name)).toEqual(['acme/web-image']);
    expect((await t.http.get('/api/v1/packages')).body).toEqual([]);
    const shown = await as('bob').get('/api/v1/packages/bob/app');
    expect(shown.body).toMatchObject({
      name: 'bob/app',
      owner: 'bob',
      repository: null,
      visibility: 'private',
      actions: ['pull', 'push', 'delete'],
    });
    expect((await as('bob').get('/api/v1/packages/bob%2Fapp')).body.name).toBe('bob/app');
    expectApiError(await as('carol').get('/api/v1/packages/bob/app'), 404, 'PACKAGE_NOT_FOUND');
  });

  it('change visibility while unlinked, by their admins', async () => {
    expectApiError(await as('carol').patch('/api/v1/packages/bob/app', { visibility: 'public' }), 404, 'PACKAGE_NOT_FOUND');
    expect((await as('bob').patch('/api/v1/packages/bob/app', { visibility: 'public' })).body).toMatchObject({ visibility: 'public' });
    expect((await t.http.get('/api/v1/packages/bob/app')).body).toMatchObject({ actions: ['pull'] });
    expectApiError(await as('carol').patch('/api/v1/packages/bob/app', { visibility: 'private' }), 403, 'FORBIDDEN');
    expectApiError(await as('bob').patch('/api/v1/packages/bob/app', { visibility: 'secret' }), 400, 'REQUEST_INVALID');
  });

  it('link to a repository the admin can write, then follow its visibility and roles', async () => {
    expect((await as('bob').post('/api/v1/repositories', { name: 'site' })).status).toBe(201);
    expectApiError(await as('bob').put('/api/v1/packages/bob/app/link', { repository: 'acme/web' }), 403, 'FORBIDDEN');
    const linked = await as('bob').put('/api/v1/packages/bob/app/link', { repository: 'bob/site' });
    expect(linked.body).toMatchObject({ repository: 'bob/site', visibility: 'private' });
    expectApiError(await t.http.get('/api/v1/packages/bob/app'), 404, 'PACKAGE_NOT_FOUND');
    expectApiError(await as('bob').patch('/api/v1/packages/bob/app', { visibility: 'public' }), 409, 'CONFLICT');
    expectApiError(await as('bob').put('/api/v1/packages/bob/app/link', { repository: 'nope' }), 400, 'REQUEST_INVALID');

    expect((await as('bob').put('/api/v1/repositories/bob/site/collaborators/carol', { role: 'write' })).status).toBe(200);
    expect(await pushBlobAs('carol', 'carol-password', 'bob/app', 'carol writes through the repository')).toBe(201);

    const unlinked = await as('bob').delete('/api/v1/packages/bob/app/link');
    expect(unlinked.body).toMatchObject({ repository: null, visibility: 'public' });
    expect(await pushBlobAs('carol', 'carol-password', 'bob/app', 'not any more')).toBe(403);
  });
});
