/**
 * Cross-repository mount from a repository the caller cannot read (issue 20):
 * `POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<other>` must not link
 * the blob, must not reveal that it exists, and falls back to a plain upload
 * session (202, distribution-spec "Mounting a blob from another repository").
 * Over Basic credentials and over a bearer token, including one that asked
 * for pull on the source as well (and was not granted it).
 */
import type { Response } from 'supertest';
import { ADMIN_PASSWORD, addUser, basic, fetchToken, startAuthRegistry, type AuthTestRegistry } from './support/auth-registry';
import { getBlob, postBlob, type AuthHeader } from './support/registry-ops';
import { blob } from '../support/oci';

const SECRET = blob('a layer only alice may read');
const PUBLIC = blob('a layer anyone may read');
const ABSENT = blob('a layer nobody ever pushed');

describe('cross-repository mount and the source repository’s access', () => {
  let t: AuthTestRegistry;
  const malloryCreds = { username: 'mallory', password: 'mallory-password' };
  const mallory = basic(malloryCreds.username, malloryCreds.password);

  beforeAll(async () => {
    t = await startAuthRegistry();
    const alice = await addUser(t.identities, 'alice');
    await addUser(t.identities, 'mallory');
    await t.identities.packages.ensurePackage({
      name: 'alice/public',
      ownerId: alice.id,
      sourceRepositoryId: null,
      visibility: 'public',
      createdAt: Date.now(),
    });
    const admin = basic('admin', ADMIN_PASSWORD);
    for (const [name, b] of [
      ['alice/secret', SECRET],
      ['alice/public', PUBLIC],
    ] as const) {
      const res = await postBlob(t.http, admin, name, b);
      if (res.status !== 201) throw new Error(`seeding ${name}: ${res.status} ${res.text}`);
    }
    expect((await t.identities.packages.package('alice/secret'))?.visibility).toBe('private');
  });

  afterAll(async () => {
    await t?.close();
  });

  const mount = (auth: AuthHeader, target: string, digest: string, from: string) => {
    const req = t.http.post(`/v2/${target}/blobs/uploads/?mount=${digest}&from=${from}`);
    return auth === null ? req : req.set('Authorization', auth);
  };

  /** What a fallback looks like, minus what differs per session (its id). */
  const shape = (res: Response) => ({
    status: res.status,
    location: res.headers.location?.replace(/[^/]+$/, '<id>'),
    range: res.headers.range,
    digest: res.headers['docker-content-digest'],
    body: res.text,
  });

  const transports: Array<[string, () => Promise<AuthHeader>]> = [
    ['Basic', async () => mallory],
    [
      'a bearer token for the target only',
      async () => `Bearer ${await fetchToken(t.http, malloryCreds, ['repository:mallory/app:pull,push'])}`,
    ],
    [
      'a bearer token that also asked for pull on the source',
      async () => `Bearer ${await fetchToken(t.http, malloryCreds, ['repository:mallory/app:pull,push', 'repository:alice/secret:pull'])}`,
    ],
  ];

  test.each(transports)('over %s: no mount, a plain upload session, and the blob stays unlinked', async (_how, auth) => {
    const header = await auth();
    const res = await mount(header, 'mallory/app', SECRET.digest, 'alice/secret');
    expect(res.status).toBe(202);
    expect(res.headers.location).toMatch(/^\/v2\/mallory\/app\/blobs\/uploads\/[^/]+$/);
    expect(res.headers['docker-content-digest']).toBeUndefined();
    // Not linked to the target: neither the caller nor the admin finds it there.
    expect((await getBlob(t.http, header, 'mallory/app', SECRET.digest)).status).toBe(404);
    expect((await getBlob(t.http, basic('admin', ADMIN_PASSWORD), 'mallory/app', SECRET.digest)).status).toBe(404);
    // The fallback session is a working upload.
    const upload = await t.http
      .put(`${res.headers.location as string}?digest=${ABSENT.digest}`)
      .set('Authorization', header ?? '')
      .set('Content-Type', 'application/octet-stream')
      .send(ABSENT.content);
    expect(upload.status).toBe(201);
  });

  test.each(transports)('over %s: the answer is the same as for a blob that does not exist there', async (_how, auth) => {
    const header = await auth();
    const existing = await mount(header, 'mallory/app', SECRET.digest, 'alice/secret');
    const missing = await mount(header, 'mallory/app', blob(`never pushed ${Math.random()}`).digest, 'alice/secret');
    expect(shape(existing)).toEqual(shape(missing));
  });

  test('a mount from a repository the caller may read is done (201), so the refusals above are about access', async () => {
    const res = await mount(mallory, 'mallory/app', PUBLIC.digest, 'alice/public');
    expect(res.status).toBe(201);
    expect(res.headers['docker-content-digest']).toBe(PUBLIC.digest);
    expect((await getBlob(t.http, mallory, 'mallory/app', PUBLIC.digest)).status).toBe(200);
  });

  test('alice, who may read alice/secret, mounts it into her own repository', async () => {
    const alice = basic('alice', 'alice-password');
    const res = await mount(alice, 'alice/copy', SECRET.digest, 'alice/secret');
    expect(res.status).toBe(201);
    expect((await getBlob(t.http, alice, 'alice/copy', SECRET.digest)).status).toBe(200);
  });
});
