/**
 * Issue 20's two probes, pinned: a bearer token whose payload segment is not
 * JSON, and upload ids (and other id-like path parameters) holding path
 * traversal. Each answers the registry's error JSON with the spec's status.
 */
import { expectOciError } from '../support/http';
import { ADMIN_PASSWORD, SERVICE, basic, fetchToken, parseChallenge, startAuthRegistry, type AuthTestRegistry } from '../auth/support/auth-registry';

describe('malformed input found by probes (issue 20)', () => {
  let t: AuthTestRegistry;
  const admin = basic('admin', ADMIN_PASSWORD);

  beforeAll(async () => {
    t = await startAuthRegistry();
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses a token whose payload segment is not JSON with 401 and a challenge, not 500', async () => {
    const token = await fetchToken(t.http, { username: 'admin', password: ADMIN_PASSWORD }, ['repository:admin/app:pull,push']);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const middle = Math.floor(payload.length / 2);
    const broken = `${header}.${payload.slice(0, middle)}x${payload.slice(middle)}.${signature}`;
    const res = await t.http.post('/v2/admin/app/blobs/uploads/').set('Authorization', `Bearer ${broken}`);
    expectOciError(res, 401, 'UNAUTHORIZED');
    expect(parseChallenge(res)).toMatchObject({ service: SERVICE, error: 'invalid_token' });
    // The untouched token still works.
    expect((await t.http.post('/v2/admin/app/blobs/uploads/').set('Authorization', `Bearer ${token}`)).status).toBe(202);
  });

  it.each([
    ['GET', '..%2F..%2Fetc%2Fpasswd'],
    ['GET', '../../etc/passwd'],
    ['PATCH', '../../../x'],
    ['PUT', '..%2F..%2Fx?digest=sha256:0000000000000000000000000000000000000000000000000000000000000000'],
    ['PUT', '../x?digest=sha256:0000000000000000000000000000000000000000000000000000000000000000'],
    ['DELETE', '%2e%2e/%2e%2e/x'],
    ['GET', '%00'],
  ])('an upload id with path traversal (%s %s) is BLOB_UPLOAD_UNKNOWN', async (method, id) => {
    const res = await t.http[method.toLowerCase() as 'get' | 'patch' | 'put' | 'delete'](`/v2/admin/app/blobs/uploads/${id}`).set('Authorization', admin);
    expectOciError(res, 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('asks for credentials before saying an upload id is unknown', async () => {
    const res = await t.http.get('/v2/admin/app/blobs/uploads/..%2F..%2Fx');
    expectOciError(res, 401, 'UNAUTHORIZED');
  });

  it.each([
    ['/v2/admin/app/blobs/../../etc/passwd', 400, 'DIGEST_INVALID'],
    ['/v2/admin/app/blobs/..%2F..%2Fetc', 400, 'DIGEST_INVALID'],
    ['/v2/admin/app/referrers/../../x', 400, 'DIGEST_INVALID'],
    ['/v2/admin/app/manifests/../../x', 404, 'MANIFEST_UNKNOWN'],
    ['/v2/admin/app/manifests/..%2F..%2Fx', 404, 'MANIFEST_UNKNOWN'],
    ['/v2/admin%2Fapp/tags/list', 400, 'NAME_INVALID'],
    ['/v2/admin/%2e%2e/app/tags/list', 400, 'NAME_INVALID'],
    ['/v2/admin/../app/manifests/latest', 400, 'NAME_INVALID'],
  ] as const)('%s is %i %s', async (path, status, code) => {
    expectOciError(await t.http.get(path).set('Authorization', admin), status, code);
  });
});
