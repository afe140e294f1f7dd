/**
 * An upload idle past its TTL is over even before the purge removes it
 * (issue 20): GET, PATCH, PUT and DELETE answer 404 BLOB_UPLOAD_UNKNOWN once
 * the session's last activity is older than `uploads.sessionTtlSeconds`.
 * The session's age is set through its store (the registry's database, or
 * Redis) rather than waited for; the purge runs every 10 minutes, so it has
 * not run.
 */
import { ADMIN_PASSWORD, basic, startAuthRegistry, type AuthTestRegistry } from './support/auth-registry';
import { blob } from '../support/oci';

describe('an upload idle past its TTL, not yet purged', () => {
  let t: AuthTestRegistry;
  const admin = basic('admin', ADMIN_PASSWORD);
  const content = blob('an upload that went idle');
  const half = Math.floor(content.content.length / 2);

  beforeAll(async () => {
    t = await startAuthRegistry();
  });

  afterAll(async () => {
    await t?.close();
  });

  /** Opens an upload with its first chunk; returns its Location and id. */
  async function openUpload(name: string): Promise<{ location: string; id: string }> {
    const res = await t.http.post(`/v2/${name}/blobs/uploads/`).set('Authorization', admin);
    expect(res.status).toBe(202);
    const location = res.headers.location as string;
    const patch = await t.http
      .patch(location)
      .set('Authorization', admin)
      .set('Content-Type', 'application/octet-stream')
      .set('Content-Range', `0-${half - 1}`)
      .send(content.content.subarray(0, half));
    expect(patch.status).toBe(202);
    return { location, id: res.headers['docker-upload-uuid'] as string };
  }

  /** Moves the session's last activity `ageMs` into the past. */
  async function age(id: string, ageMs: number): Promise<void> {
    const session = await t.sessions.get(id);
    if (!session) throw new Error(`no upload session ${id}`);
    expect(await t.sessions.setOffset(id, session.offset, Date.now() - ageMs, session.hashState)).toBe(true);
  }

  const requests = (location: string) => ({
    GET: () => t.http.get(location).set('Authorization', admin),
    PATCH: () =>
      t.http
        .patch(location)
        .set('Authorization', admin)
        .set('Content-Type', 'application/octet-stream')
        .set('Content-Range', `${half}-${content.content.length - 1}`)
        .send(content.content.subarray(half)),
    PUT: () => t.http.put(`${location}?digest=${content.digest}`).set('Authorization', admin),
    DELETE: () => t.http.delete(location).set('Authorization', admin),
  });

  test.each(['GET', 'PATCH', 'PUT', 'DELETE'] as const)('%s answers 404 BLOB_UPLOAD_UNKNOWN past the TTL', async (method) => {
    const ttlMs = t.config.uploads.sessionTtlSeconds * 1000;
    const { location, id } = await openUpload(`expiry/${method.toLowerCase()}`);
    await age(id, ttlMs + 60_000);
    // Not purged: the session is still stored.
    expect(await t.sessions.get(id)).not.toBeNull();
    const res = await requests(location)[method]();
    expect({ status: res.status, code: res.body?.errors?.[0]?.code }).toEqual({ status: 404, code: 'BLOB_UPLOAD_UNKNOWN' });
    // Nothing was committed.
    const head = await t.http.head(`/v2/expiry/${method.toLowerCase()}/blobs/${content.digest}`).set('Authorization', admin);
    expect(head.status).toBe(404);
  });

  test('an upload idle for a little less than the TTL goes on and completes', async () => {
    const ttlMs = t.config.uploads.sessionTtlSeconds * 1000;
    const { location, id } = await openUpload('expiry/alive');
    await age(id, ttlMs - 60_000);
    const ops = requests(location);
    expect((await ops.GET()).status).toBe(204);
    expect((await ops.PATCH()).status).toBe(202);
    expect((await ops.PUT()).status).toBe(201);
  });
});
