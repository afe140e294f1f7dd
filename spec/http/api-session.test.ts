import { DEFAULT_CONFIG } from '../../src/config';
import { expectApiError } from '../support/http';
import { startTestRegistry, type TestRegistry } from '../support/registry';

/** The management API's sign-in: session cookies, credentials in headers, and what is refused. */
const ADMIN_PASSWORD = 'admin-password-1';
const tokenMode = { auth: { ...DEFAULT_CONFIG.auth, mode: 'token' as const, adminPassword: ADMIN_PASSWORD } };

function sessionCookie(setCookie: string[] | string | undefined): string {
  const cookies = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  const cookie = cookies.find((c) => c.startsWith('berth_session='));
  if (!cookie) throw new Error(`no session cookie in ${JSON.stringify(setCookie)}`);
  return cookie;
}

describe('/api/v1/session', () => {
  let t: TestRegistry;
  beforeAll(async () => {
    t = await startTestRegistry(tokenMode);
  });
  afterAll(() => t.close());

  it('signs in with a password: an HttpOnly, SameSite=Lax cookie that authenticates the API', async () => {
    const res = await t.http.post('/api/v1/session').send({ username: 'admin', password: ADMIN_PASSWORD });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ name: 'admin', admin: true });
    const cookie = sessionCookie(res.headers['set-cookie']);
    expect(cookie).toMatch(/^berth_session=berth_session_[A-Za-z0-9_-]+;/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\/api/);
    const pair = cookie.split(';')[0] as string;

    const me = await t.http.get('/api/v1/user').set('Cookie', pair);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ name: 'admin', admin: true, orgs: [] });

    const out = await t.http.delete('/api/v1/session').set('Cookie', pair);
    expect(out.status).toBe(204);
    expect(sessionCookie(out.headers['set-cookie'])).toMatch(/Expires=Thu, 01 Jan 1970/);
    expectApiError(await t.http.get('/api/v1/user').set('Cookie', pair), 401, 'UNAUTHORIZED');
  });

  it('refuses a wrong password, a token as password, and malformed bodies', async () => {
    expectApiError(await t.http.post('/api/v1/session').send({ username: 'admin', password: 'wrong' }), 401, 'UNAUTHORIZED');
    expectApiError(await t.http.post('/api/v1/session').send({ username: 'admin' }), 400, 'REQUEST_INVALID');
    expectApiError(
      await t.http.post('/api/v1/session').set('Content-Type', 'application/json').send('{"username":'),
      400,
      'REQUEST_INVALID',
    );
    const big = await t.http.post('/api/v1/session').send({ username: 'admin', password: 'x'.repeat(70_000) });
    expect(big.status).toBe(413);
    expect(big.body.errors[0].code).toBe('REQUEST_INVALID');

    const pat = await t.http
      .post('/api/v1/tokens')
      .auth('admin', ADMIN_PASSWORD)
      .send({ name: 'ci', scopes: ['read:packages'] });
    expect(pat.status).toBe(201);
    expectApiError(await t.http.post('/api/v1/session').send({ username: 'admin', password: pat.body.token }), 401, 'UNAUTHORIZED');
  });

  it('takes Basic credentials and a PAT as Bearer, but not a registry JWT or an unknown scheme', async () => {
    expect((await t.http.get('/api/v1/user').auth('admin', ADMIN_PASSWORD)).body).toMatchObject({ name: 'admin' });
    const pat = await t.http
      .post('/api/v1/tokens')
      .auth('admin', ADMIN_PASSWORD)
      .send({ scopes: ['read:packages'] });
    const me = await t.http.get('/api/v1/user').set('Authorization', `Bearer ${pat.body.token}`);
    expect(me.status).toBe(200);
    expect(me.body.name).toBe('admin');

    const jwt = await t.http.get('/token').auth('admin', ADMIN_PASSWORD);
    expectApiError(await t.http.get('/api/v1/user').set('Authorization', `Bearer ${jwt.body.token}`), 401, 'UNAUTHORIZED');
    expectApiError(await t.http.get('/api/v1/user').set('Authorization', 'Bearer berth_pat_forged'), 401, 'UNAUTHORIZED');
    expectApiError(await t.http.get('/api/v1/user').set('Authorization', 'Digest abc'), 401, 'UNAUTHORIZED');
    expectApiError(await t.http.get('/api/v1/user').auth('admin', 'wrong-password'), 401, 'UNAUTHORIZED');
    expectApiError(await t.http.get('/api/v1/user'), 401, 'UNAUTHORIZED');
    expectApiError(await t.http.get('/api/v1/user').set('Cookie', 'berth_session=berth_session_forged'), 401, 'UNAUTHORIZED');
  });

  it('refuses cookie-authenticated changes from another site', async () => {
    const res = await t.http.post('/api/v1/session').send({ username: 'admin', password: ADMIN_PASSWORD });
    const pair = sessionCookie(res.headers['set-cookie']).split(';')[0] as string;
    const body = { name: 'fromelsewhere' };
    expectApiError(
      await t.http.post('/api/v1/orgs').set('Cookie', pair).set('Origin', 'https://evil.example').send(body),
      403,
      'FORBIDDEN',
    );
    expectApiError(await t.http.post('/api/v1/orgs').set('Cookie', pair).set('Sec-Fetch-Site', 'cross-site').send(body), 403, 'FORBIDDEN');
    const ok = await t.http.post('/api/v1/orgs').set('Cookie', pair).send(body);
    expect(ok.status).toBe(201);
  });

  it('answers unknown API paths with NOT_FOUND', async () => {
    expectApiError(await t.http.get('/api/v1/nothing-here').auth('admin', ADMIN_PASSWORD), 404, 'NOT_FOUND');
  });
});

describe('/api/v1 login throttling', () => {
  let t: TestRegistry;
  beforeAll(async () => {
    t = await startTestRegistry(tokenMode);
  });
  afterAll(() => t.close());

  it('answers repeated failed sign-ins with 429 TOO_MANY_REQUESTS', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      statuses.push((await t.http.post('/api/v1/session').send({ username: 'mallory', password: `guess-${i}` })).status);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    const last = await t.http.post('/api/v1/session').send({ username: 'mallory', password: 'guess' });
    expectApiError(last, 429, 'TOO_MANY_REQUESTS');
    expect(last.headers['retry-after']).toMatch(/^\d+$/);
  });
});

describe('/api/v1 in open mode', () => {
  let t: TestRegistry;
  beforeAll(async () => {
    t = await startTestRegistry();
  });
  afterAll(() => t.close());

  it('is not mounted: there is no identity model to manage', async () => {
    expectApiError(await t.http.get('/api/v1/user'), 404, 'NOT_FOUND');
  });
});
