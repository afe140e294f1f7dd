import { expectApiError, expectOciError } from '../support/http';
import { addUser, basic, startAuthRegistry, type AuthTestRegistry } from '../auth/support/auth-registry';
import { deleteManifest, manifestFor, putManifest, seedPackage } from '../auth/support/registry-ops';

/** Immutable tags (issue #22) through the registry and management APIs. */
let t: AuthTestRegistry;
const alice = basic('alice', 'alice-password');
const bob = basic('bob', 'bob-password');
const api = (auth: string) => ({
  post: (path: string, body: object) => t.http.post(path).set('Authorization', auth).send(body),
  get: (path: string) => t.http.get(path).set('Authorization', auth),
  delete: (path: string) => t.http.delete(path).set('Authorization', auth),
});

beforeAll(async () => {
  t = await startAuthRegistry();
  await addUser(t.identities, 'alice');
  await addUser(t.identities, 'bob');
  expect((await api(alice).post('/api/v1/orgs', { name: 'acme' })).status).toBe(201);
});
afterAll(() => t.close());

describe('immutable tags', () => {
  it('refuses moving or deleting a covered tag with DENIED naming the rule; the same digest again is fine', async () => {
    const rule = await api(alice).post('/api/v1/immutable-tag-rules', { organisation: 'acme', pattern: '*', except: ['latest'] });
    expect(rule.status).toBe(201);
    expect(rule.body).toMatchObject({ organisation: 'acme', pattern: '*', except: ['latest'] });
    const content = await seedPackage(t.http, alice, 'acme/app', 'v1');
    const v1 = manifestFor(content, 'acme/app:v1');
    const other = manifestFor(content, 'another build');

    const moved = await putManifest(t.http, alice, 'acme/app', 'v1', other.content);
    expectOciError(moved, 403, 'DENIED');
    const message = (moved.body as { errors: Array<{ message: string; detail?: unknown }> }).errors[0];
    expect(JSON.stringify(message)).toContain(`immutable-tag rule ${rule.body.id as number} (organisation acme: * except latest)`);
    expect(
      (
        await t.http
          .get('/v2/acme/app/manifests/v1')
          .set('Authorization', alice)
          .set('Accept', 'application/vnd.oci.image.manifest.v1+json')
      ).headers['docker-content-digest'],
    ).toBe(v1.digest);

    expect((await putManifest(t.http, alice, 'acme/app', 'v1', v1.content)).status).toBe(201);
    expect((await putManifest(t.http, alice, 'acme/app', 'latest', v1.content)).status).toBe(201);
    expect((await putManifest(t.http, alice, 'acme/app', 'latest', other.content)).status).toBe(201);
    // A new tag is fine; from then on it is kept too.
    expect((await putManifest(t.http, alice, 'acme/app', 'v2', other.content)).status).toBe(201);

    expectOciError(await t.http.delete('/v2/acme/app/manifests/v1').set('Authorization', alice), 403, 'DENIED');
    expectOciError(await deleteManifest(t.http, alice, 'acme/app', v1.digest), 403, 'DENIED');
    expect((await t.http.delete('/v2/acme/app/manifests/latest').set('Authorization', alice)).status).toBe(202);

    expect((await api(alice).delete(`/api/v1/immutable-tag-rules/${rule.body.id as number}`)).status).toBe(204);
    expect((await putManifest(t.http, alice, 'acme/app', 'v1', other.content)).status).toBe(201);
  });

  it('a package rule binds that package only', async () => {
    const rule = await api(alice).post('/api/v1/immutable-tag-rules', { package: 'acme/lib', pattern: 'v*' });
    expect(rule.status).toBe(201);
    const lib = await seedPackage(t.http, alice, 'acme/lib', 'v1.0');
    expectOciError(await putManifest(t.http, alice, 'acme/lib', 'v1.0', manifestFor(lib, 'rebuilt').content), 403, 'DENIED');
    expect((await putManifest(t.http, alice, 'acme/lib', 'edge', manifestFor(lib, 'rebuilt').content)).status).toBe(201);
    const tool = await seedPackage(t.http, alice, 'acme/tool', 'v1.0');
    expect((await putManifest(t.http, alice, 'acme/tool', 'v1.0', manifestFor(tool, 'rebuilt').content)).status).toBe(201);
    const listed = await api(alice).get('/api/v1/immutable-tag-rules?organisation=acme');
    expect(listed.body).toEqual([expect.objectContaining({ id: rule.body.id, package: 'acme/lib', pattern: 'v*', except: [] })]);
  });

  it('is managed by the namespace owner only, with tag patterns only', async () => {
    expectApiError(await api(bob).post('/api/v1/immutable-tag-rules', { organisation: 'acme', pattern: 'v*' }), 403, 'FORBIDDEN');
    expectApiError(await api(bob).get('/api/v1/immutable-tag-rules?package=acme/lib'), 403, 'FORBIDDEN');
    expect((await api(bob).post('/api/v1/immutable-tag-rules', { package: 'bob/own', pattern: 'v*' })).status).toBe(201);
    expectApiError(
      await api(alice).post('/api/v1/immutable-tag-rules', { organisation: 'acme', pattern: '<script>' }),
      400,
      'REQUEST_INVALID',
    );
    expectApiError(
      await api(alice).post('/api/v1/immutable-tag-rules', { organisation: 'acme', package: 'acme/x', pattern: 'v*' }),
      400,
      'REQUEST_INVALID',
    );
    expectApiError(await t.http.post('/api/v1/immutable-tag-rules').send({ organisation: 'acme', pattern: 'v*' }), 401, 'UNAUTHORIZED');
  });
});
