import { MediaType } from '../../src/oci/media-types';
import { blob, descriptor, imageManifest, unknownDigest } from '../support/oci';
import { expectOciError, pushBlob, pushManifest } from '../support/http';
import { startTestRegistry, type TestRegistry } from '../support/registry';

let t: TestRegistry;

beforeAll(async () => {
  t = await startTestRegistry();
});

afterAll(async () => {
  await t.close();
});

const ten = blob('0123456789');

describe('HEAD and GET a blob', () => {
  beforeAll(async () => {
    await pushBlob(t.http, 'pull', ten);
  });

  it('HEAD answers 200 with length, digest and no body', async () => {
    const res = await t.http.head(`/v2/pull/blobs/${ten.digest}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe('10');
    expect(res.headers['docker-content-digest']).toBe(ten.digest);
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.headers.etag).toBe(`"${ten.digest}"`);
  });

  it('GET answers 200 with the bytes', async () => {
    const res = await t.http.get(`/v2/pull/blobs/${ten.digest}`).buffer(true);
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe('10');
    expect(res.headers['docker-content-digest']).toBe(ten.digest);
    expect(Buffer.from(res.body as Buffer).toString()).toBe('0123456789');
  });

  it('answers If-None-Match on the digest with 304', async () => {
    const res = await t.http.get(`/v2/pull/blobs/${ten.digest}`).set('If-None-Match', `"${ten.digest}"`);
    expect(res.status).toBe(304);
  });

  it.each([
    ['bytes=2-5', '2345', 'bytes 2-5/10'],
    ['bytes=7-', '789', 'bytes 7-9/10'],
    ['bytes=-2', '89', 'bytes 8-9/10'],
    ['bytes=8-100', '89', 'bytes 8-9/10'],
  ])('answers Range %s with 206 and the slice', async (range, body, contentRange) => {
    const res = await t.http.get(`/v2/pull/blobs/${ten.digest}`).set('Range', range).buffer(true);
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(contentRange);
    expect(res.headers['content-length']).toBe(String(body.length));
    expect(Buffer.from(res.body as Buffer).toString()).toBe(body);
  });

  it.each(['bytes=10-', 'bytes=5-0'])('answers an unsatisfiable or invalid Range %s with 416 and Content-Range */size', async (range) => {
    const res = await t.http.get(`/v2/pull/blobs/${ten.digest}`).set('Range', range);
    expectOciError(res, 416, 'RANGE_INVALID');
    expect(res.headers['content-range']).toBe('bytes */10');
  });

  it('serves the whole blob for a Range it does not understand', async () => {
    const res = await t.http.get(`/v2/pull/blobs/${ten.digest}`).set('Range', 'bytes=0-1,4-5').buffer(true);
    expect(res.status).toBe(200);
    expect(Buffer.from(res.body as Buffer).toString()).toBe('0123456789');
  });

  it('answers an unknown blob with 404 BLOB_UNKNOWN', async () => {
    expectOciError(await t.http.get(`/v2/pull/blobs/${unknownDigest()}`), 404, 'BLOB_UNKNOWN');
    expect((await t.http.head(`/v2/pull/blobs/${unknownDigest()}`)).status).toBe(404);
  });

  it('answers a malformed digest with 400 DIGEST_INVALID', async () => {
    expectOciError(await t.http.get('/v2/pull/blobs/sha256:1234'), 400, 'DIGEST_INVALID');
    expectOciError(await t.http.get(`/v2/pull/blobs/sha256:${'A'.repeat(64)}`), 400, 'DIGEST_INVALID');
  });

  it('serves a blob only through repositories that link it', async () => {
    expectOciError(await t.http.get(`/v2/elsewhere/blobs/${ten.digest}`), 404, 'BLOB_UNKNOWN');
    expect((await t.http.head(`/v2/elsewhere/blobs/${ten.digest}`)).status).toBe(404);
  });

  it('finds a blob pushed to a repository whose name holds route words', async () => {
    const b = blob('tricky name');
    await pushBlob(t.http, 'x/blobs/uploads', b);
    const res = await t.http.head(`/v2/x/blobs/uploads/blobs/${b.digest}`);
    expect(res.status).toBe(200);
    // The upload route works without its trailing slash too.
    const started = await t.http.post('/v2/x/manifests/blobs/uploads');
    expect(started.status).toBe(202);
    expect(started.headers.location).toMatch(/^\/v2\/x\/manifests\/blobs\/uploads\/[0-9a-f-]{36}$/);
  });
});

describe('DELETE a blob', () => {
  it('answers 202, after which the blob is 404 BLOB_UNKNOWN', async () => {
    const b = blob('to be deleted');
    await pushBlob(t.http, 'del', b);
    const res = await t.http.delete(`/v2/del/blobs/${b.digest}`);
    expect(res.status).toBe(202);
    expectOciError(await t.http.get(`/v2/del/blobs/${b.digest}`), 404, 'BLOB_UNKNOWN');
    expectOciError(await t.http.delete(`/v2/del/blobs/${b.digest}`), 404, 'BLOB_UNKNOWN');
  });

  it('unlinks from one repository only', async () => {
    const b = blob('shared between two');
    await pushBlob(t.http, 'del/one', b);
    await pushBlob(t.http, 'del/two', b);
    expect((await t.http.delete(`/v2/del/one/blobs/${b.digest}`)).status).toBe(202);
    expect((await t.http.head(`/v2/del/two/blobs/${b.digest}`)).status).toBe(200);
  });

  it('refuses with 409 while a manifest references the blob, and allows it once the manifest is gone', async () => {
    const config = blob('{"config":"of a manifest"}');
    const layer = blob('a referenced layer');
    await pushBlob(t.http, 'del/ref', config);
    await pushBlob(t.http, 'del/ref', layer);
    const m = await pushManifest(
      t.http,
      'del/ref',
      'v1',
      imageManifest({
        config: descriptor(config, MediaType.OCI_CONFIG),
        layers: [descriptor(layer, 'application/vnd.oci.image.layer.v1.tar')],
      }),
    );
    expectOciError(await t.http.delete(`/v2/del/ref/blobs/${layer.digest}`), 409, 'CONFLICT');
    expectOciError(await t.http.delete(`/v2/del/ref/blobs/${config.digest}`), 409, 'CONFLICT');
    expect((await t.http.head(`/v2/del/ref/blobs/${layer.digest}`)).status).toBe(200);
    expect((await t.http.delete(`/v2/del/ref/manifests/${m.digest}`)).status).toBe(202);
    expect((await t.http.delete(`/v2/del/ref/blobs/${layer.digest}`)).status).toBe(202);
  });
});

describe('cross-repository mount', () => {
  it('links a blob the source repository has, with 201', async () => {
    const b = blob('mountable');
    await pushBlob(t.http, 'mount/src', b);
    const res = await t.http.post(`/v2/mount/dst/blobs/uploads/?mount=${b.digest}&from=mount/src`);
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/v2/mount/dst/blobs/${b.digest}`);
    expect(res.headers['docker-content-digest']).toBe(b.digest);
    expect((await t.http.head(`/v2/mount/dst/blobs/${b.digest}`)).status).toBe(200);
  });

  it('falls back to a new upload session (202) when the source lacks the blob', async () => {
    const b = blob('only in a third repository');
    await pushBlob(t.http, 'mount/third', b);
    const res = await t.http.post(`/v2/mount/dst/blobs/uploads/?mount=${b.digest}&from=mount/src`);
    expect(res.status).toBe(202);
    expect(res.headers.location).toMatch(/^\/v2\/mount\/dst\/blobs\/uploads\/[0-9a-f-]{36}$/);
    expectOciError(await t.http.get(`/v2/mount/dst/blobs/${b.digest}`), 404, 'BLOB_UNKNOWN');
  });

  it('falls back to an upload session when the source repository does not exist', async () => {
    const res = await t.http.post(`/v2/mount/dst/blobs/uploads/?mount=${unknownDigest()}&from=mount/none`);
    expect(res.status).toBe(202);
  });

  // The current official suite mounts without `from` (automatic content discovery, a MAY of the
  // spec) and expects this fallback as its one skip: Berth cannot know the caller may read some
  // other repository that has the blob, so it never mounts without a named source.
  it('answers a mount without `from` with 202 and an upload session, although another repository has the blob', async () => {
    const b = blob('mountable only by name');
    await pushBlob(t.http, 'mount/src', b);
    const res = await t.http.post(`/v2/mount/anon/blobs/uploads/?mount=${b.digest}`);
    expect(res.status).toBe(202);
    expect(res.headers.location).toMatch(/^\/v2\/mount\/anon\/blobs\/uploads\/[0-9a-f-]{36}$/);
    expectOciError(await t.http.get(`/v2/mount/anon/blobs/${b.digest}`), 404, 'BLOB_UNKNOWN');
  });

  it('refuses an invalid source name with 400 NAME_INVALID', async () => {
    const res = await t.http.post(`/v2/mount/dst/blobs/uploads/?mount=${unknownDigest()}&from=Mount/Src`);
    expectOciError(res, 400, 'NAME_INVALID');
  });
});
