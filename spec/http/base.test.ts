import { expectOciError } from '../support/http';
import { startTestRegistry, type TestRegistry } from '../support/registry';

let t: TestRegistry;

beforeAll(async () => {
  t = await startTestRegistry();
});

afterAll(async () => {
  await t.close();
});

describe('GET /v2/', () => {
  it('answers 200 with the API version header', async () => {
    const res = await t.http.get('/v2/');
    expect(res.status).toBe(200);
    expect(res.headers['docker-distribution-api-version']).toBe('registry/2.0');
    expect(res.body).toEqual({});
  });

  it('answers HEAD and /v2 without the slash alike', async () => {
    expect((await t.http.head('/v2/')).status).toBe(200);
    expect((await t.http.get('/v2')).status).toBe(200);
  });

  it('echoes a sane X-Request-Id and replaces an insane one', async () => {
    expect((await t.http.get('/v2/').set('X-Request-Id', 'abc-123')).headers['x-request-id']).toBe('abc-123');
    const replaced = (await t.http.get('/v2/').set('X-Request-Id', 'bad id!')).headers['x-request-id'];
    expect(replaced).not.toBe('bad id!');
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('unknown routes and methods', () => {
  it.each(['/v2/a', '/v2/a/b/c', '/v2/a/manifests/', '/v2/a/tags', '/nope', '/v1/_ping'])(
    'GET %s is 404 NOT_FOUND as OCI error JSON',
    async (path) => {
      const res = await t.http.get(path);
      expectOciError(res, 404, 'NOT_FOUND');
      expect(res.headers['docker-distribution-api-version']).toBe('registry/2.0');
    },
  );

  it.each([
    ['post', '/v2/'],
    ['delete', '/v2/_catalog'],
    ['put', '/v2/a/tags/list'],
    ['post', '/v2/a/manifests/latest'],
    ['patch', '/v2/a/manifests/latest'],
    ['put', `/v2/a/blobs/sha256:${'a'.repeat(64)}`],
    ['get', '/v2/a/blobs/uploads/'],
    ['delete', `/v2/a/referrers/sha256:${'a'.repeat(64)}`],
  ] as const)('%s %s is 405 UNSUPPORTED', async (method, path) => {
    expectOciError(await t.http[method](path), 405, 'UNSUPPORTED');
  });

  it('answers HEAD errors with the status and no body', async () => {
    const res = await t.http.head('/v2/a/manifests/missing');
    expect(res.status).toBe(404);
    expect(res.text ?? '').toBe('');
  });
});

describe('repository names in paths', () => {
  it.each(['/v2/A/tags/list', '/v2/a_/manifests/latest', '/v2/-a/blobs/uploads/', `/v2/${'a'.repeat(256)}/tags/list`])(
    '%s is 400 NAME_INVALID',
    async (path) => {
      const res = path.includes('uploads') ? await t.http.post(path) : await t.http.get(path);
      expectOciError(res, 400, 'NAME_INVALID');
    },
  );
});

describe('GET /healthz', () => {
  it('answers ok', async () => {
    const res = await t.http.get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });
});
