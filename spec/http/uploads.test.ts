import { blob, sha256, sha512 } from '../support/oci';
import { expectOciError, header, startUpload, withQuery } from '../support/http';
import { startTestRegistry, type TestRegistry } from '../support/registry';

let t: TestRegistry;

beforeAll(async () => {
  t = await startTestRegistry();
});

afterAll(async () => {
  await t.close();
});

const UUID_LOCATION = /^\/v2\/[^?]+\/blobs\/uploads\/[0-9a-f-]{36}$/;

async function expectBlob(name: string, content: Buffer): Promise<void> {
  const res = await t.http.get(`/v2/${name}/blobs/${sha256(content)}`).buffer(true);
  expect(res.status).toBe(200);
  expect(Buffer.from(res.body as Buffer).equals(content)).toBe(true);
}

async function expectNoBlob(name: string, digest: string): Promise<void> {
  expectOciError(await t.http.get(`/v2/${name}/blobs/${digest}`), 404, 'BLOB_UNKNOWN');
}

describe('monolithic upload (POST ?digest=)', () => {
  it('creates the blob with 201, Location and Docker-Content-Digest', async () => {
    const b = blob('monolithic content');
    const res = await t.http.post(`/v2/mono/blobs/uploads/?digest=${b.digest}`).type('application/octet-stream').send(b.content);
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/v2/mono/blobs/${b.digest}`);
    expect(res.headers['docker-content-digest']).toBe(b.digest);
    await expectBlob('mono', b.content);
  });

  it('accepts a sha512 digest', async () => {
    const content = Buffer.from('sha512 content');
    const digest = sha512(content);
    const res = await t.http.post(`/v2/mono/blobs/uploads/?digest=${digest}`).type('application/octet-stream').send(content);
    expect(res.status).toBe(201);
    expect(res.headers['docker-content-digest']).toBe(digest);
    expect((await t.http.head(`/v2/mono/blobs/${digest}`)).status).toBe(200);
  });

  it('refuses a digest mismatch with 400 DIGEST_INVALID and links nothing', async () => {
    const claimed = blob('what the client claims');
    const sent = Buffer.from('what the client sends');
    const res = await t.http.post(`/v2/mono/blobs/uploads/?digest=${claimed.digest}`).type('application/octet-stream').send(sent);
    expectOciError(res, 400, 'DIGEST_INVALID');
    await expectNoBlob('mono', claimed.digest);
    await expectNoBlob('mono', sha256(sent));
  });

  it('stores an empty blob', async () => {
    const empty = Buffer.alloc(0);
    const res = await t.http
      .post(`/v2/mono/blobs/uploads/?digest=${sha256(empty)}`)
      .type('application/octet-stream')
      .send(empty);
    expect(res.status).toBe(201);
    const head = await t.http.head(`/v2/mono/blobs/${sha256(empty)}`);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('0');
  });

  it('refuses a malformed digest with 400 DIGEST_INVALID', async () => {
    const res = await t.http.post('/v2/mono/blobs/uploads/?digest=sha256:abc').type('application/octet-stream').send('x');
    expectOciError(res, 400, 'DIGEST_INVALID');
  });
});

describe('chunked upload (POST, PATCH, PUT)', () => {
  it('opens a session with 202, a Location, the upload UUID and Range 0-0', async () => {
    const res = await t.http.post('/v2/chunked/blobs/uploads/');
    expect(res.status).toBe(202);
    expect(res.headers.location).toMatch(UUID_LOCATION);
    expect(header(res, 'Location').endsWith(header(res, 'Docker-Upload-UUID'))).toBe(true);
    expect(res.headers.range).toBe('0-0');
  });

  it('assembles chunks sent with Content-Range and commits on PUT ?digest=', async () => {
    const content = Buffer.from('0123456789abcdefghij');
    const location = await startUpload(t.http, 'chunked');
    const first = await t.http
      .patch(location)
      .set('Content-Type', 'application/octet-stream')
      .set('Content-Range', '0-9')
      .send(content.subarray(0, 10));
    expect(first.status).toBe(202);
    expect(first.headers.range).toBe('0-9');
    expect(first.headers.location).toBe(location);
    const second = await t.http
      .patch(header(first, 'Location'))
      .set('Content-Type', 'application/octet-stream')
      .set('Content-Range', '10-19')
      .send(content.subarray(10));
    expect(second.status).toBe(202);
    expect(second.headers.range).toBe('0-19');
    const done = await t.http.put(withQuery(header(second, 'Location'), 'digest', sha256(content)));
    expect(done.status).toBe(201);
    expect(done.headers.location).toBe(`/v2/chunked/blobs/${sha256(content)}`);
    expect(done.headers['docker-content-digest']).toBe(sha256(content));
    await expectBlob('chunked', content);
  });

  it('accepts a streamed PATCH without Content-Range', async () => {
    const content = Buffer.from('streamed in one patch');
    const location = await startUpload(t.http, 'chunked');
    const res = await t.http.patch(location).set('Content-Type', 'application/octet-stream').send(content);
    expect(res.status).toBe(202);
    expect(res.headers.range).toBe(`0-${content.length - 1}`);
    expect((await t.http.put(withQuery(location, 'digest', sha256(content)))).status).toBe(201);
    await expectBlob('chunked', content);
  });

  it('takes the final chunk in the PUT body', async () => {
    const content = Buffer.from('first part|final part');
    const location = await startUpload(t.http, 'chunked');
    await t.http.patch(location).set('Content-Type', 'application/octet-stream').set('Content-Range', '0-10').send(content.subarray(0, 11));
    const res = await t.http
      .put(withQuery(location, 'digest', sha256(content)))
      .set('Content-Type', 'application/octet-stream')
      .set('Content-Range', `11-${content.length - 1}`)
      .send(content.subarray(11));
    expect(res.status).toBe(201);
    await expectBlob('chunked', content);
  });

  it('takes a whole blob in the PUT body after POST', async () => {
    const content = Buffer.from('all in the put');
    const location = await startUpload(t.http, 'chunked');
    const res = await t.http
      .put(withQuery(location, 'digest', sha256(content)))
      .type('application/octet-stream')
      .send(content);
    expect(res.status).toBe(201);
    await expectBlob('chunked', content);
  });

  it('refuses a digest mismatch on PUT with 400 DIGEST_INVALID and links nothing', async () => {
    const content = Buffer.from('the real bytes');
    const wrong = sha256('other bytes');
    const location = await startUpload(t.http, 'mismatch');
    await t.http.patch(location).set('Content-Type', 'application/octet-stream').send(content);
    expectOciError(await t.http.put(withQuery(location, 'digest', wrong)), 400, 'DIGEST_INVALID');
    await expectNoBlob('mismatch', wrong);
    await expectNoBlob('mismatch', sha256(content));
  });

  it('refuses PUT without a digest with 400 DIGEST_INVALID', async () => {
    const location = await startUpload(t.http, 'chunked');
    expectOciError(await t.http.put(location), 400, 'DIGEST_INVALID');
  });

  it('answers an out-of-order chunk with 416 BLOB_UPLOAD_INVALID and the Range accepted so far', async () => {
    const location = await startUpload(t.http, 'chunked');
    await t.http.patch(location).set('Content-Type', 'application/octet-stream').set('Content-Range', '0-4').send('01234');
    const res = await t.http.patch(location).set('Content-Type', 'application/octet-stream').set('Content-Range', '10-14').send('abcde');
    expectOciError(res, 416, 'BLOB_UPLOAD_INVALID');
    expect(res.headers.range).toBe('0-4');
    // Where to resume, as after an accepted chunk (Docker's API; Distribution answers so too).
    expect(res.headers.location).toBe(location);
    expect(res.headers['docker-upload-uuid']).toBe(location.split('/').pop());
    // The refused chunk changed nothing.
    expect((await t.http.get(location)).headers.range).toBe('0-4');
  });

  it('answers a Content-Range that disagrees with Content-Length with 416', async () => {
    const location = await startUpload(t.http, 'chunked');
    const res = await t.http.patch(location).set('Content-Type', 'application/octet-stream').set('Content-Range', '0-9').send('short');
    expectOciError(res, 416, 'BLOB_UPLOAD_INVALID');
  });

  it('accepts a chunk that resumes at the offset after a refused one', async () => {
    const content = Buffer.from('0123456789');
    const location = await startUpload(t.http, 'chunked');
    await t.http.patch(location).set('Content-Type', 'application/octet-stream').set('Content-Range', '0-4').send(content.subarray(0, 5));
    await t.http.patch(location).set('Content-Type', 'application/octet-stream').set('Content-Range', '0-4').send(content.subarray(0, 5));
    const resumed = await t.http
      .patch(location)
      .set('Content-Type', 'application/octet-stream')
      .set('Content-Range', '5-9')
      .send(content.subarray(5));
    expect(resumed.status).toBe(202);
    expect((await t.http.put(withQuery(location, 'digest', sha256(content)))).status).toBe(201);
    await expectBlob('chunked', content);
  });
});

describe('upload status and cancellation', () => {
  it('reports progress with 204, Location and Range', async () => {
    const location = await startUpload(t.http, 'status');
    await t.http.patch(location).set('Content-Type', 'application/octet-stream').send('twelve bytes');
    const res = await t.http.get(location);
    expect(res.status).toBe(204);
    expect(res.headers.range).toBe('0-11');
    expect(res.headers.location).toBe(location);
    expect(res.headers['docker-upload-uuid']).toBe(location.split('/').pop());
  });

  it('cancels with DELETE, after which the upload is 404 BLOB_UPLOAD_UNKNOWN', async () => {
    const location = await startUpload(t.http, 'status');
    await t.http.patch(location).set('Content-Type', 'application/octet-stream').send('doomed');
    expect((await t.http.delete(location)).status).toBe(204);
    expectOciError(await t.http.get(location), 404, 'BLOB_UPLOAD_UNKNOWN');
    expectOciError(await t.http.patch(location).set('Content-Type', 'application/octet-stream').send('x'), 404, 'BLOB_UPLOAD_UNKNOWN');
    expectOciError(await t.http.put(withQuery(location, 'digest', sha256('doomed'))), 404, 'BLOB_UPLOAD_UNKNOWN');
    expectOciError(await t.http.delete(location), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('forgets a session once its blob is committed', async () => {
    const content = Buffer.from('committed');
    const location = await startUpload(t.http, 'status');
    await t.http
      .put(withQuery(location, 'digest', sha256(content)))
      .type('application/octet-stream')
      .send(content);
    expectOciError(await t.http.get(location), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('answers an unknown upload id with 404 BLOB_UPLOAD_UNKNOWN', async () => {
    expectOciError(await t.http.get('/v2/status/blobs/uploads/00000000-0000-0000-0000-000000000000'), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it("does not let another repository use an upload's session", async () => {
    const location = await startUpload(t.http, 'owner');
    const foreign = location.replace('/v2/owner/', '/v2/intruder/');
    expectOciError(await t.http.get(foreign), 404, 'BLOB_UPLOAD_UNKNOWN');
    expectOciError(await t.http.patch(foreign).set('Content-Type', 'application/octet-stream').send('x'), 404, 'BLOB_UPLOAD_UNKNOWN');
    expect((await t.http.get(location)).status).toBe(204);
  });
});
