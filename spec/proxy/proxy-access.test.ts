import { MediaType } from '../../src/oci/media-types';
import { addUser, basic, fetchToken, startAuthRegistry, type AuthTestRegistry } from '../auth/support/auth-registry';
import { expectOciError, pushImage } from '../support/http';
import { startTestRegistry, type TestRegistry } from '../support/registry';
import { startCountingUpstream, type CountingUpstream } from './upstream-server';

/**
 * Who may pull through a proxy prefix on a Berth with token auth: `access: anonymous` lets anyone,
 * `signed-in` only users; nobody pushes there, admins included. The upstream is an open-mode Berth.
 */
let upstream: TestRegistry;
let server: CountingUpstream;
let t: AuthTestRegistry;
const bob = basic('bob', 'bob-password');

beforeAll(async () => {
  upstream = await startTestRegistry();
  await pushImage(upstream.http, 'library/base', 'v1');
  server = await startCountingUpstream(upstream.registry.app);
  const entry = { url: server.url, tagTtlSeconds: 60 };
  t = await startAuthRegistry(
    {},
    {
      proxies: [
        { ...entry, prefix: 'open', access: 'anonymous' },
        { ...entry, prefix: 'members', access: 'signed-in' },
      ],
    },
  );
  await addUser(t.identities, 'bob');
}, 60_000);

afterAll(async () => {
  await t?.close();
  await server?.stop();
  await upstream?.close();
});

/** A JWT's claims, unverified: the test only reads what the token service granted. */
function decodeJwt(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

const accept = [MediaType.OCI_MANIFEST, MediaType.OCI_INDEX].join(', ');

describe('pull-through access', () => {
  it('anonymous pulls through an `anonymous` prefix, with a token as Docker gets one', async () => {
    const token = await fetchToken(t.http, null, ['repository:open/library/base:pull,push']);
    const access = decodeJwt(token).access as Array<{ name: string; actions: string[] }>;
    expect(access).toEqual([{ type: 'repository', name: 'open/library/base', actions: ['pull'] }]);
    const res = await t.http.get('/v2/open/library/base/manifests/v1').set('Authorization', `Bearer ${token}`).set('Accept', accept);
    expect(res.status).toBe(200);
  });

  it('a `signed-in` prefix challenges anonymous callers and serves users', async () => {
    expectOciError(await t.http.get('/v2/members/library/base/manifests/v1').set('Accept', accept), 401, 'UNAUTHORIZED');
    const anonymous = await fetchToken(t.http, null, ['repository:members/library/base:pull']);
    expect(decodeJwt(anonymous).access).toEqual([{ type: 'repository', name: 'members/library/base', actions: [] }]);
    const res = await t.http.get('/v2/members/library/base/manifests/v1').set('Authorization', bob).set('Accept', accept);
    expect(res.status).toBe(200);
  });

  it('refuses pushes under a prefix to everyone, the admin too', async () => {
    const admin = basic('admin', 'admin-password-for-specs');
    for (const auth of [bob, admin]) {
      const res = await t.http.post('/v2/members/library/base/blobs/uploads/').set('Authorization', auth);
      expectOciError(res, 403, 'DENIED');
    }
    const token = await fetchToken(t.http, { username: 'admin', password: 'admin-password-for-specs' }, [
      'repository:open/x:pull,push,delete',
    ]);
    expect(decodeJwt(token).access).toEqual([{ type: 'repository', name: 'open/x', actions: ['pull', 'delete'] }]);
  });
});
