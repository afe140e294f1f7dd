/**
 * Properties of every JSON body of the management API (issue 20): bodies of
 * the right shape with values of any type, extra keys, any JSON at all, text
 * that is not JSON, other content types and bodies over the 64 KiB limit. The
 * answer is a success or the registry's error JSON (400 REQUEST_INVALID for a
 * bad body, 413/415 from the body parser, 403/404/409 from the rules), never
 * a 5xx, and the API still works afterwards.
 */
import fc from 'fast-check';
import { ADMIN_PASSWORD, basic, startAuthRegistry, type AuthTestRegistry } from '../auth/support/auth-registry';
import { seedPackage } from '../auth/support/registry-ops';
import { checkProperty, expectAnswer, printPropertyCounts } from './support/properties';

const admin = basic('admin', ADMIN_PASSWORD);

/** A field's value: a plausible one, or any JSON. */
const anyOf = (...plausible: fc.Arbitrary<unknown>[]) =>
  fc.oneof(...plausible.map((arbitrary) => ({ weight: 3, arbitrary })), { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
const names = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/),
  fc.constantFrom('admin', 'bob', 'acme', 'web', '', '..', 'a/b', 'x'.repeat(300)),
  fc.string({ maxLength: 20 }),
);
const text = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('', 'x'.repeat(5000)));

/** Each body route: where it is and the fields its schema names. */
const ROUTES: ReadonlyArray<{ method: 'post' | 'put' | 'patch'; path: string; fields: Record<string, fc.Arbitrary<unknown>> }> = [
  { method: 'post', path: '/api/v1/session', fields: { username: anyOf(names), password: anyOf(text) } },
  { method: 'post', path: '/api/v1/users', fields: { name: anyOf(names), password: anyOf(text), admin: anyOf(fc.boolean()) } },
  { method: 'put', path: '/api/v1/users/victim/password', fields: { password: anyOf(text), currentPassword: anyOf(text) } },
  { method: 'post', path: '/api/v1/orgs', fields: { name: anyOf(names), owner: anyOf(names) } },
  { method: 'put', path: '/api/v1/orgs/acme/members/bob', fields: { role: anyOf(fc.constantFrom('owner', 'member', 'admin', '')) } },
  {
    method: 'post',
    path: '/api/v1/repositories',
    fields: { owner: anyOf(names), name: anyOf(names), visibility: anyOf(fc.constantFrom('public', 'private', 'internal')) },
  },
  {
    method: 'patch',
    path: '/api/v1/repositories/acme/web',
    fields: { visibility: anyOf(fc.constantFrom('public', 'private', 'internal')) },
  },
  {
    method: 'put',
    path: '/api/v1/repositories/acme/web/collaborators/bob',
    fields: { role: anyOf(fc.constantFrom('read', 'write', 'admin', 'owner')) },
  },
  {
    method: 'post',
    path: '/api/v1/repositories/acme/web/ci-tokens',
    fields: { ttlMinutes: anyOf(fc.integer(), fc.constantFrom(0, 1, 60, 1440, 1441, -1, 1e300, 2 ** 53, 0.5)) },
  },
  { method: 'patch', path: '/api/v1/packages/admin/app', fields: { visibility: anyOf(fc.constantFrom('public', 'private')) } },
  {
    method: 'put',
    path: '/api/v1/packages/admin/app/link',
    fields: { repository: anyOf(fc.constantFrom('acme/web', 'acme/none', 'acme', '', 'a/b/c'), names) },
  },
  {
    method: 'post',
    path: '/api/v1/tokens',
    fields: {
      name: anyOf(text),
      scopes: anyOf(
        fc.array(fc.oneof(fc.constantFrom('read:packages', 'write:packages', 'delete:packages', 'admin'), fc.string({ maxLength: 12 })), {
          maxLength: 4,
        }),
      ),
      expiresInDays: anyOf(fc.integer(), fc.constantFrom(0, 1, 365, -1, 1e300, 2 ** 53)),
    },
  },
];

/** A body for a route: its fields (some left out, values of any type, extra keys), any JSON, or not JSON at all. */
function bodyFor(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<{ type: string; body: string }> {
  const json = (v: unknown) => ({ type: 'application/json', body: JSON.stringify(v) });
  return fc.oneof(
    { weight: 5, arbitrary: fc.record(fields, { requiredKeys: [] }).map(json) },
    fc
      .tuple(fc.record(fields), fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { minKeys: 1, maxKeys: 2 }))
      .map(([a, b]) => json({ ...b, ...a })),
    fc.jsonValue({ maxDepth: 3 }).map(json),
    fc
      .oneof(fc.string({ maxLength: 40 }), fc.constantFrom('{', '{"a":', 'null', '"x"', '[]', '{"__proto__":{"admin":true}}', '\u0000'))
      .map((body) => ({ type: 'application/json', body })),
    fc
      .tuple(
        fc.constantFrom(
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/json; charset=latin1',
          'application/json; charset=utf-16',
          'application/xml',
        ),
        fc.string({ maxLength: 40 }),
      )
      .map(([type, body]) => ({ type, body })),
    fc.constant({ type: 'application/json', body: JSON.stringify({ padding: 'x'.repeat(70 * 1024) }) }),
  );
}

describe('management API bodies never answer 5xx', () => {
  let t: AuthTestRegistry;

  const call = (method: 'get' | 'post' | 'put' | 'patch', path: string) => t.http[method](path).set('Authorization', admin);

  beforeAll(async () => {
    t = await startAuthRegistry();
    for (const [path, body] of [
      ['/api/v1/users', { name: 'bob', password: 'bob-password' }],
      ['/api/v1/users', { name: 'victim', password: 'victim-password' }],
      ['/api/v1/orgs', { name: 'acme' }],
      ['/api/v1/repositories', { owner: 'acme', name: 'web' }],
    ] as const) {
      const res = await call('post', path).send(body);
      if (res.status !== 201) throw new Error(`fixture ${path}: ${res.status} ${res.text}`);
    }
    await seedPackage(t.http, admin, 'admin/app', 'v1');
  });
  afterAll(async () => {
    printPropertyCounts('spec/property/api-bodies.test.ts');
    await t?.close();
  });

  it.each(ROUTES)('$method $path', async ({ method, path, fields }) => {
    const statuses = new Set<number>();
    await checkProperty(
      `body: ${method.toUpperCase()} ${path}`,
      bodyFor(fields),
      async ({ type, body }) => {
        await t.forgetFailedLogins();
        const res = await call(method, path).set('Content-Type', type).send(body);
        statuses.add(res.status);
        expectAnswer(
          res,
          [200, 201, 204],
          [400, 401, 403, 404, 409, 413, 415, 429],
          `${method.toUpperCase()} ${path} (${type}) ${body.slice(0, 200)}`,
        );
      },
      120,
    );
    // Not vacuous: the schema check and both body-parser refusals were reached.
    expect([...statuses]).toEqual(expect.arrayContaining([400, 413, 415]));
  });

  it('the management API still works after the properties ran', async () => {
    expect((await call('get', '/api/v1/user')).status).toBe(200);
    expect((await call('get', '/api/v1/repositories/acme/web')).status).toBe(200);
    const created = await call('post', '/api/v1/orgs').send({ name: 'after-properties' });
    expect(created.status).toBe(201);
  });
});
