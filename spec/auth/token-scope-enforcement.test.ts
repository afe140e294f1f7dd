/**
 * Scope enforcement under token auth beyond the authorization matrix's
 * pull/push/delete (issue 20): tags/list, referrers, every upload-session
 * method (GET/PATCH/PUT/DELETE) and blob DELETE. A token with pull only must
 * not push or delete; a token for repository A must not touch repository B.
 * Every refusal is checked to have changed nothing.
 */
import type { Response } from 'supertest';
import {
  ADMIN_PASSWORD,
  SERVICE,
  addUser,
  basic,
  fetchToken,
  parseChallenge,
  startAuthRegistry,
  type AuthTestRegistry,
} from './support/auth-registry';
import { getBlob, seedPackage } from './support/registry-ops';
import { blob } from '../support/oci';

const A = 'alice/a';
const B = 'alice/b';
const CHUNK = blob('the first chunk of an upload in progress');

describe('bearer token scopes on tags, referrers, uploads and blob deletes', () => {
  let t: AuthTestRegistry;
  const alice = { username: 'alice', password: 'alice-password' };
  const admin = basic('admin', ADMIN_PASSWORD);
  /** Per repository: an upload session holding CHUNK, and the config blob of its image. */
  const uploads = new Map<string, string>();
  const configs = new Map<string, string>();
  const token = async (...scopes: string[]) => `Bearer ${await fetchToken(t.http, alice, scopes)}`;

  beforeAll(async () => {
    t = await startAuthRegistry();
    await addUser(t.identities, 'alice');
    for (const name of [A, B]) {
      const content = await seedPackage(t.http, admin, name, 'v1');
      configs.set(name, content.config.digest);
      const start = await t.http.post(`/v2/${name}/blobs/uploads/`).set('Authorization', admin);
      const location = start.headers.location as string;
      const patch = await t.http
        .patch(location)
        .set('Authorization', admin)
        .set('Content-Type', 'application/octet-stream')
        .set('Content-Range', `0-${CHUNK.content.length - 1}`)
        .send(CHUNK.content);
      if (patch.status !== 202) throw new Error(`seeding an upload on ${name}: ${patch.status} ${patch.text}`);
      uploads.set(name, location);
    }
  });

  afterAll(async () => {
    await t?.close();
  });

  function expectInsufficientScope(res: Response, scope: string): void {
    expect({ status: res.status, code: res.body?.errors?.[0]?.code }).toEqual({ status: 401, code: 'UNAUTHORIZED' });
    expect(parseChallenge(res)).toMatchObject({ service: SERVICE, scope, error: 'insufficient_scope' });
  }

  const location = (name: string) => uploads.get(name) ?? fail(`no upload on ${name}`);
  const config = (name: string) => configs.get(name) ?? fail(`no config on ${name}`);
  function fail(message: string): never {
    throw new Error(message);
  }

  /** The upload session is untouched: still in progress, still holding exactly CHUNK. */
  async function expectUploadIntact(name: string): Promise<void> {
    const res = await t.http.get(location(name)).set('Authorization', admin);
    expect({ status: res.status, range: res.headers.range }).toEqual({ status: 204, range: `0-${CHUNK.content.length - 1}` });
  }

  /** Every upload-session method and blob DELETE, on `name`, with `auth`. */
  const writes = (auth: string, name: string) => ({
    'upload GET': () => t.http.get(location(name)).set('Authorization', auth),
    'upload PATCH': () =>
      t.http
        .patch(location(name))
        .set('Authorization', auth)
        .set('Content-Type', 'application/octet-stream')
        .set('Content-Range', `${CHUNK.content.length}-${CHUNK.content.length + 4}`)
        .send(Buffer.from('extra')),
    'upload PUT': () => t.http.put(`${location(name)}?digest=${CHUNK.digest}`).set('Authorization', auth),
    'upload DELETE': () => t.http.delete(location(name)).set('Authorization', auth),
    'upload POST': () => t.http.post(`/v2/${name}/blobs/uploads/`).set('Authorization', auth),
    'blob DELETE': () => t.http.delete(`/v2/${name}/blobs/${config(name)}`).set('Authorization', auth),
  });
  const WRITES = ['upload GET', 'upload PATCH', 'upload PUT', 'upload DELETE', 'upload POST', 'blob DELETE'] as const;
  const needs = (op: (typeof WRITES)[number], name: string) => `repository:${name}:${op === 'blob DELETE' ? 'delete' : 'pull,push'}`;

  test.each(WRITES)('a pull-only token for A: %s on A is refused and changes nothing', async (op) => {
    const res = await writes(await token(`repository:${A}:pull`), A)[op]();
    expectInsufficientScope(res, needs(op, A));
    await expectUploadIntact(A);
    expect((await getBlob(t.http, admin, A, config(A))).status).toBe(200);
  });

  test.each(WRITES)('a token with every action on A: %s on B is refused and changes nothing', async (op) => {
    const res = await writes(await token(`repository:${A}:pull,push,delete`), B)[op]();
    expectInsufficientScope(res, needs(op, B));
    await expectUploadIntact(B);
    expect((await getBlob(t.http, admin, B, config(B))).status).toBe(200);
  });

  test('a push token for A cannot reach B’s upload session through A’s name', async () => {
    const id = location(B).split('/').pop() as string;
    const res = await t.http.get(`/v2/${A}/blobs/uploads/${id}`).set('Authorization', await token(`repository:${A}:pull,push`));
    expect({ status: res.status, code: res.body?.errors?.[0]?.code }).toEqual({ status: 404, code: 'BLOB_UPLOAD_UNKNOWN' });
    await expectUploadIntact(B);
  });

  test.each([
    ['tags/list', (name: string) => `/v2/${name}/tags/list`],
    ['referrers', (name: string) => `/v2/${name}/referrers/${config(name)}`],
  ])('%s: a pull token for A reads A, not B', async (_what, path) => {
    const auth = await token(`repository:${A}:pull`);
    expect((await t.http.get(path(A)).set('Authorization', auth)).status).toBe(200);
    expectInsufficientScope(await t.http.get(path(B)).set('Authorization', auth), `repository:${B}:pull`);
  });

  test('tags/list and referrers: a push-only or delete-only token does not read', async () => {
    for (const action of ['push', 'delete']) {
      const auth = await token(`repository:${A}:${action}`);
      expectInsufficientScope(await t.http.get(`/v2/${A}/tags/list`).set('Authorization', auth), `repository:${A}:pull`);
      expectInsufficientScope(await t.http.get(`/v2/${A}/referrers/${config(A)}`).set('Authorization', auth), `repository:${A}:pull`);
    }
  });

  test('the same requests succeed with the scope they need, so the refusals above are about scope', async () => {
    const push = await token(`repository:${A}:pull,push`);
    expect((await t.http.post(`/v2/${A}/blobs/uploads/`).set('Authorization', push)).status).toBe(202);
    expect((await t.http.get(location(A)).set('Authorization', push)).status).toBe(204);
    const put = await t.http.put(`${location(A)}?digest=${CHUNK.digest}`).set('Authorization', push);
    expect(put.status).toBe(201);
    const other = blob('an unreferenced blob to delete');
    const posted = await t.http
      .post(`/v2/${A}/blobs/uploads/?digest=${other.digest}`)
      .set('Authorization', push)
      .set('Content-Type', 'application/octet-stream')
      .send(other.content);
    expect(posted.status).toBe(201);
    const del = await t.http.delete(`/v2/${A}/blobs/${other.digest}`).set('Authorization', await token(`repository:${A}:delete`));
    expect(del.status).toBe(202);
    expect((await getBlob(t.http, admin, A, other.digest)).status).toBe(404);
  });
});
