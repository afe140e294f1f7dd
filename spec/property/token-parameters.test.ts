/**
 * Properties of the token endpoint's inputs (issue 20): GET /token query
 * parameters, POST /token form bodies (repeated keys, wrong charsets, too
 * large), and scope strings, through the app and parseScopes directly. The
 * endpoint issues a token (granting only what it may) or refuses with the
 * registry's error JSON; it never answers 5xx.
 */
import fc from 'fast-check';
import { parseScopes } from '../../src/auth/scope';
import { isValidName } from '../../src/oci/reference';
import { ADMIN_PASSWORD, SERVICE, basic, fetchToken, startAuthRegistry, type AuthTestRegistry } from '../auth/support/auth-registry';
import { checkProperty, expectAnswer, headerValue, printPropertyCounts } from './support/properties';

/** A scope string: well-formed, nearly well-formed, or anything. */
export const scopeString: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('repository', 'registry', 'repository(plugin)', 'Repository', '', 'repository(', 'x'),
      fc.oneof(fc.constantFrom('admin/app', 'catalog', 'a/../b', 'A/B', '', ':', 'a:b'), fc.string({ maxLength: 20 })),
      fc.array(fc.oneof(fc.constantFrom('pull', 'push', 'delete', '*', '', ' ', 'PULL'), fc.string({ maxLength: 6 })), { maxLength: 4 }),
    )
    .map(([type, name, actions]) => `${type}:${name}:${actions.join(',')}`),
  fc.array(fc.constantFrom('repository:admin/app:pull', 'registry:catalog:*', ':', '::', ' '), { maxLength: 4 }).map((p) => p.join(' ')),
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
);

describe('token endpoint parameters never answer 5xx', () => {
  let t: AuthTestRegistry;
  const adminAuth = basic('admin', ADMIN_PASSWORD);

  beforeAll(async () => {
    t = await startAuthRegistry();
  });
  afterAll(async () => {
    printPropertyCounts('spec/property/token-parameters.test.ts');
    await t?.close();
  });

  it('parseScopes never throws and keeps only valid names and known actions', async () => {
    await checkProperty(
      'scope strings, parseScopes directly',
      fc.array(scopeString, { maxLength: 4 }),
      (values) => {
        for (const access of parseScopes(values)) {
          if (access.type === 'repository') {
            if (!isValidName(access.name)) throw new Error(`invalid name kept: ${access.name}`);
            if (access.actions.some((a) => !['pull', 'push', 'delete', '*'].includes(a)))
              throw new Error(`unknown action kept: ${access.actions.join(',')}`);
          } else if (access.name !== 'catalog' || access.actions.some((a) => a !== '*')) {
            throw new Error(`bad registry scope kept: ${JSON.stringify(access)}`);
          }
        }
      },
      500,
    );
  });

  const queryKey = fc.oneof(
    fc.constantFrom('service', 'scope', 'offline_token', 'account', 'client_id', 'scope[]', 'scope[0]', '__proto__', 'constructor'),
    fc.string({ maxLength: 8 }),
  );
  const queryValue = fc.oneof(scopeString, fc.constantFrom('true', 'false', SERVICE, ''), fc.string({ maxLength: 30 }));
  const query = fc.array(fc.tuple(queryKey, queryValue), { maxLength: 6 });

  it('GET /token with any query, anonymous or signed in', async () => {
    await checkProperty(
      'GET /token query parameters',
      fc.tuple(query, fc.boolean(), fc.boolean()),
      async ([pairs, signedIn, rawQuery]) => {
        // Encoded as a client would, or pasted raw (bad escapes, bare `&` and `=`).
        const q = rawQuery ? pairs.map(([k, v]) => `${encodeURI(k)}=${encodeURI(v)}`).join('&') : new URLSearchParams(pairs).toString();
        const req = t.http.get(`/token?${q}`);
        const res = await (signedIn ? req.set('Authorization', adminAuth) : req);
        expectAnswer(res, [200], [400], `GET /token?${q}`);
        if (res.status === 200 && typeof res.body.token !== 'string') throw new Error(`200 without a token: ${res.text}`);
      },
      300,
    );
  });

  const formField = fc.oneof(
    fc.constantFrom('grant_type', 'username', 'password', 'refresh_token', 'scope', 'service', 'access_type', 'client_id'),
    fc.string({ maxLength: 8 }),
  );
  const formValue = fc.oneof(
    fc.constantFrom('password', 'refresh_token', 'offline', 'admin', ADMIN_PASSWORD, ''),
    scopeString,
    fc.string({ maxLength: 30 }),
  );
  const formBody = fc.oneof(
    // Fields, some repeated (a repeated field arrives as an array).
    fc.array(fc.tuple(formField, formValue), { maxLength: 8 }).map((pairs) => new URLSearchParams(pairs).toString()),
    fc.tuple(fc.constantFrom('username', 'password', 'refresh_token', 'grant_type', 'scope'), formValue, formValue).map(([k, a, b]) =>
      new URLSearchParams([
        ['grant_type', k === 'grant_type' ? a : 'password'],
        ['username', 'admin'],
        ['password', ADMIN_PASSWORD],
        ['refresh_token', 'x'],
        [k, a],
        [k, b],
      ]).toString(),
    ),
    fc.string({ maxLength: 80 }),
    fc.constantFrom('%', '%ZZ=1', '=&=&', 'grant_type=password&username=%FF%FE&password=%C0', 'a[b]=1&a[c]=2'),
    fc.constant(`grant_type=password&username=admin&password=${'x'.repeat(17 * 1024)}`),
  );
  const contentType = fc.constantFrom(
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=utf-8',
    'application/x-www-form-urlencoded; charset=latin1',
    'application/x-www-form-urlencoded; charset=utf-16',
    'application/x-www-form-urlencoded; charset=nonsense',
    'application/json',
    'text/plain',
    'multipart/form-data; boundary=x',
  );

  it('POST /token with any form body', async () => {
    await checkProperty(
      'POST /token form parameters',
      fc.tuple(formBody, contentType),
      async ([body, type]) => {
        await t.forgetFailedLogins();
        const res = await t.http.post('/token').set('Content-Type', type).send(body);
        expectAnswer(res, [200], [400, 401, 413, 415, 429], `POST /token (${type}) ${body.slice(0, 200)}`);
      },
      300,
    );
  });

  it('the Authorization header value on GET /token may be any latin-1 text', async () => {
    await checkProperty(
      'GET /token Authorization value',
      headerValue(100),
      async (value) => {
        await t.forgetFailedLogins();
        const res = await t.http.get(`/token?service=${SERVICE}`).set('Authorization', `Basic ${value}`);
        expectAnswer(res, [], [401, 429], `GET /token with Basic ${value}`);
      },
      100,
    );
  });

  it('the token endpoint still works after the properties ran', async () => {
    const token = await fetchToken(t.http, { username: 'admin', password: ADMIN_PASSWORD }, ['repository:admin/app:pull,push']);
    expect((await t.http.post('/v2/admin/app/blobs/uploads/').set('Authorization', `Bearer ${token}`)).status).toBe(202);
    const form = await t.http
      .post('/token')
      .type('form')
      .send({ grant_type: 'password', username: 'admin', password: ADMIN_PASSWORD, service: SERVICE });
    expect(form.status).toBe(200);
  });
});
