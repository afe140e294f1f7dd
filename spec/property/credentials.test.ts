/**
 * Properties of every credential parser (issue 20): the Authorization header
 * (Basic and Bearer) on the registry, the token endpoint and the management
 * API, and JWTs forged in every malformed way. A bad credential is always 401
 * with a challenge (or 429 once throttled), never a 5xx; a forged token that
 * happens to be entirely valid is accepted, so the oracle is exact.
 */
import { createPrivateKey, sign } from 'node:crypto';
import fc from 'fast-check';
import { Authenticator } from '../../src/auth/authenticator';
import { Authorizer } from '../../src/auth/authorizer';
import { SigningKeys } from '../../src/auth/signing-keys';
import { InvalidTokenError, TokenService } from '../../src/auth/token-service';
import { decodeBasic, parseAuthorization } from '../../src/http/authorization-header';
import {
  ADMIN_PASSWORD,
  ISSUER,
  SERVICE,
  basic,
  fetchToken,
  parseChallenge,
  startAuthRegistry,
  type AuthTestRegistry,
} from '../auth/support/auth-registry';
import { checkProperty, expectAnswer, expectErrorAnswer, headerValue, printPropertyCounts } from './support/properties';

const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url');

describe('credential parsers never answer 5xx', () => {
  let t: AuthTestRegistry;
  let kid: string;
  let privatePem: string;
  let adminId: number;

  beforeAll(async () => {
    t = await startAuthRegistry();
    const key = (await t.identities.signingKeys.signingKeys()).find((k) => k.retiredAt === null);
    if (!key) throw new Error('no signing key');
    ({ kid, privatePem } = key);
    const admin = await t.identities.accounts.accountByName('admin');
    if (!admin) throw new Error('no admin');
    adminId = admin.id;
  });
  afterAll(async () => {
    printPropertyCounts('spec/property/credentials.test.ts');
    await t?.close();
  });

  const authorization: fc.Arbitrary<string> = fc.oneof(
    fc.constant(''),
    fc.constantFrom(
      'Basic',
      'Bearer',
      'Basic ',
      'Bearer ',
      'basic x',
      'BASIC Og==',
      'Basic Og==',
      'Basic ===',
      'Negotiate abc',
      ' Basic abc',
    ),
    // Basic: no colon, bad base64, non-UTF-8, any user and password.
    headerValue(40).map((s) => `Basic ${b64url(s.replace(/:/g, ''))}`),
    headerValue(80).map((s) => `Basic ${s}`),
    fc.uint8Array({ maxLength: 60 }).map((bytes) => `Basic ${Buffer.from(bytes).toString('base64')}`),
    fc.tuple(headerValue(30), headerValue(30)).map(([u, p]) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`),
    // A real user with a wrong password: the password check itself runs.
    headerValue(30)
      .filter((p) => p !== ADMIN_PASSWORD)
      .map((p) => `Basic ${Buffer.from(`admin:${p}`).toString('base64')}`),
    fc
      .constantFrom('berth_pat_', 'berth_ci_', 'x')
      .chain((prefix) => headerValue(40).map((s) => `Basic ${Buffer.from(`u:${prefix}${s}`).toString('base64')}`)),
    // Bearer: junk, junk with dots, PAT-shaped junk.
    headerValue(120).map((s) => `Bearer ${s}`),
    fc.array(fc.base64String({ maxLength: 40 }), { maxLength: 5 }).map((parts) => `Bearer ${parts.join('.')}`),
    headerValue(40).map((s) => `Bearer berth_pat_${s}`),
    // Any scheme, and 8 KiB values.
    fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,12}$/), headerValue(60)).map(([scheme, v]) => `${scheme} ${v}`),
    fc.constantFrom('Basic ', 'Bearer ', 'Bearer berth_pat_', '').map((p) => `${p}${'A'.repeat(8192 - p.length)}`),
  );

  const targets = [
    {
      where: 'POST /v2/<name>/blobs/uploads/',
      send: (h: string) => t.http.post('/v2/admin/app/blobs/uploads/').set('Authorization', h),
      ok: [202],
      errors: [401, 429],
    },
    { where: 'GET /v2/', send: (h: string) => t.http.get('/v2/').set('Authorization', h), ok: [200], errors: [401, 429] },
    {
      where: 'GET /token',
      send: (h: string) => t.http.get(`/token?service=${SERVICE}&scope=repository:admin/app:pull`).set('Authorization', h),
      ok: [200],
      errors: [401, 429],
    },
    { where: 'GET /api/v1/user', send: (h: string) => t.http.get('/api/v1/user').set('Authorization', h), ok: [200], errors: [401, 429] },
  ];

  it.each(targets)('the Authorization header on $where', async ({ where, send, ok, errors }) => {
    await checkProperty(
      `Authorization header, ${where}`,
      authorization,
      async (header) => {
        await t.forgetFailedLogins();
        const res = await send(header);
        // Only an absent credential may pass (anonymous): every generated one is invalid.
        expectAnswer(res, header === '' ? ok : [], errors, `${where} with Authorization: ${header.slice(0, 80)}`);
      },
      150,
    );
  });

  it('parseAuthorization and decodeBasic never throw, and read back what a client encoded', async () => {
    // Any Unicode (whole graphemes, so UTF-8 round-trips), the user without a colon (RFC 7617).
    const user = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((u) => !u.includes(':'));
    const password = fc.string({ unit: 'grapheme', maxLength: 30 });
    const scheme = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,10}$/);
    await checkProperty(
      'Authorization header, parseAuthorization and decodeBasic directly',
      fc.tuple(authorization, user, password, scheme),
      ([header, u, p, sch]) => {
        const parsed = parseAuthorization(header);
        if (parsed.scheme.includes(' ') || parsed.scheme !== parsed.scheme.toLowerCase() || parsed.value !== parsed.value.trim()) {
          throw new Error(`odd parse of ${header}: ${JSON.stringify(parsed)}`);
        }
        decodeBasic(parsed.value);
        const encoded = parseAuthorization(`${sch}  ${Buffer.from(`${u}:${p}`, 'utf8').toString('base64')} `);
        const back = decodeBasic(encoded.value);
        if (encoded.scheme !== sch.toLowerCase() || back?.username !== u || back.password !== p) {
          throw new Error(`${sch} ${u}:${p} read back as ${encoded.scheme} ${JSON.stringify(back)}`);
        }
      },
      500,
    );
  });

  it('the Cookie header on the management API', async () => {
    const cookie = fc.oneof(
      headerValue(120),
      headerValue(60).map((v) => `berth_session=${v}`),
      fc
        .array(fc.tuple(fc.constantFrom('berth_session', 'other', '', ' berth_session '), headerValue(30)), { maxLength: 4 })
        .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join(';')),
    );
    await checkProperty(
      'Cookie header, GET /api/v1/user and POST /api/v1/orgs',
      fc.tuple(cookie, fc.boolean()),
      async ([value, change]) => {
        const res = change
          ? await t.http.post('/api/v1/orgs').set('Cookie', value).send({ name: 'cookie-org' })
          : await t.http.get('/api/v1/user').set('Cookie', value);
        // No generated cookie names a live session: the caller is anonymous or refused.
        expectAnswer(res, [], [401, 403], `${change ? 'POST /api/v1/orgs' : 'GET /api/v1/user'} with Cookie: ${value.slice(0, 100)}`);
      },
      150,
    );
  });

  /** A JWT built from parts, each either valid or broken in one named way. */
  interface ForgedToken {
    token: string;
    valid: boolean;
  }
  const now = () => Math.floor(Date.now() / 1000);
  const json = (v: unknown) => b64url(JSON.stringify(v));
  const validAccess = [{ type: 'repository', name: 'admin/app', actions: ['pull', 'push'] }];

  interface Part {
    valid: boolean;
    label: string;
    text: () => string;
  }
  const headerPart: fc.Arbitrary<Part> = fc.oneof(
    { weight: 4, arbitrary: fc.constant({ valid: true, label: 'valid header', text: () => json({ alg: 'ES256', typ: 'JWT', kid }) }) },
    fc
      .constantFrom('none', 'None', 'HS256', 'RS256', 'ES384', '', 'es256')
      .map((alg) => ({ valid: false, label: `alg ${alg}`, text: () => json({ alg, typ: 'JWT', kid }) })),
    fc
      .oneof(fc.constant(undefined), fc.string({ maxLength: 10 }), fc.integer(), fc.constant(null))
      .map((k) => ({ valid: false, label: `kid ${JSON.stringify(k)}`, text: () => json({ alg: 'ES256', kid: k }) })),
    fc.jsonValue({ maxDepth: 2 }).map((v) => ({ valid: false, label: `header ${JSON.stringify(v)}`, text: () => json(v) })),
    fc.string({ maxLength: 20 }).map((s) => ({ valid: false, label: `header text ${JSON.stringify(s)}`, text: () => b64url(s) })),
  );

  interface ClaimEdit {
    valid: boolean;
    label: string;
    edit: (c: Record<string, unknown>) => unknown;
  }
  const set = (key: string, value: unknown): ClaimEdit => ({
    valid: false,
    label: `${key}: ${JSON.stringify(value)}`,
    edit: (c) => ({ ...c, [key]: value }),
  });
  const claimEdit: fc.Arbitrary<ClaimEdit> = fc.oneof(
    { weight: 4, arbitrary: fc.constant<ClaimEdit>({ valid: true, label: 'valid claims', edit: (c) => c }) },
    fc
      .tuple(fc.constantFrom('aud', 'iss'), fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.constant(null)))
      .map(([k, v]) => set(k, v)),
    fc
      .integer({ min: 1, max: 1_000_000 })
      .map((ago): ClaimEdit => ({ valid: false, label: `expired ${ago}s ago`, edit: (c) => ({ ...c, exp: now() - ago }) })),
    fc
      .integer({ min: 5, max: 1_000_000 })
      .map((ahead): ClaimEdit => ({ valid: false, label: `nbf in ${ahead}s`, edit: (c) => ({ ...c, nbf: now() + ahead }) })),
    fc.constantFrom('exp', 'nbf', 'access').map((k) => set(k, undefined)),
    fc.tuple(fc.constantFrom('exp', 'nbf'), fc.oneof(fc.string(), fc.boolean(), fc.constant(null))).map(([k, v]) => set(k, v)),
    // `access` of the wrong type, or holding entries of the wrong type.
    fc
      .jsonValue({ maxDepth: 3 })
      .filter((v) => !Array.isArray(v) || v.length > 0)
      .map((v) => set('access', v)),
    fc.array(fc.jsonValue({ maxDepth: 2 }), { minLength: 1, maxLength: 3 }).map((v) => set('access', v)),
    fc
      .record({
        type: fc.constantFrom('repository', 'registry', 'x'),
        name: fc.oneof(fc.string(), fc.integer()),
        actions: fc.oneof(fc.string(), fc.array(fc.integer(), { minLength: 1 })),
      })
      .filter((e) => e.type === 'x' || typeof e.name !== 'string' || typeof e.actions === 'string')
      .map((entry) => set('access', [entry])),
    // Berth's credential claim, misshapen.
    fc.jsonValue({ maxDepth: 3 }).map((v): ClaimEdit => ({
      valid: false,
      label: `berth.cred: ${JSON.stringify(v)}`,
      edit: (c) => ({ ...c, berth: { uid: adminId, cred: v } }),
    })),
    fc.jsonValue({ maxDepth: 2 }).map((v) => set('berth', v)),
    // A payload that is not an object at all.
    fc
      .oneof(fc.string(), fc.integer(), fc.array(fc.integer()), fc.constant(null))
      .map((v): ClaimEdit => ({ valid: false, label: `payload ${JSON.stringify(v)}`, edit: () => v })),
  );

  const payloadPart: fc.Arbitrary<Part> = fc.oneof(
    { weight: 5, arbitrary: claimEdit.map((e) => ({ valid: e.valid, label: e.label, text: () => json(e.edit(claims())) })) },
    // Not JSON: a character added to a real payload, or anything.
    fc.tuple(fc.nat(), fc.constantFrom('x', '_', '-', 'A')).map(([at, c]) => ({
      valid: false,
      label: `payload with ${c} inserted at ${at}`,
      text: () => {
        const p = json(claims());
        const i = at % Math.floor(p.length / 2);
        return `${p.slice(0, i)}${c}${p.slice(i)}`;
      },
    })),
    fc.string({ maxLength: 30 }).map((s) => ({ valid: false, label: `payload text ${JSON.stringify(s)}`, text: () => b64url(s) })),
  );

  /** A generated function that prints as its label in a counterexample. */
  function labelled<F extends () => unknown>(label: string, f: F): F {
    return Object.assign(f, { [fc.toStringMethod]: () => label });
  }

  function claims(): Record<string, unknown> {
    const n = now();
    return {
      iss: ISSUER,
      sub: 'admin',
      aud: SERVICE,
      exp: n + 300,
      nbf: n - 10,
      iat: n,
      jti: 'property',
      access: validAccess,
      berth: { uid: adminId, cred: { type: 'password' } },
    };
  }

  const forged: fc.Arbitrary<() => ForgedToken> = fc
    .tuple(
      headerPart,
      payloadPart,
      fc.constantFrom('real', 'real', 'real', 'empty', 'junk', 'truncated'),
      fc.constantFrom(3, 3, 3, 2, 4, 1, 5),
    )
    .map(([h, p, signature, segments]) =>
      labelled(`${h.label} / ${p.label} / signature ${signature} / ${segments} segments`, () => {
        const input = `${h.text()}.${p.text()}`;
        const real = sign('sha256', Buffer.from(input), { key: createPrivateKey(privatePem), dsaEncoding: 'ieee-p1363' }).toString(
          'base64url',
        );
        const sig =
          signature === 'real' ? real : signature === 'empty' ? '' : signature === 'junk' ? b64url('junk signature') : real.slice(0, 20);
        const parts = [...input.split('.'), sig];
        const shaped =
          segments === 3 ? parts : segments < 3 ? parts.slice(0, segments) : [...parts, ...Array<string>(segments - 3).fill(sig)];
        return { token: shaped.join('.'), valid: h.valid && p.valid && signature === 'real' && segments === 3 };
      }),
    );

  it('a forged or malformed JWT through the HTTP app is 401 invalid_token, or accepted only when entirely valid', async () => {
    let accepted = 0;
    await checkProperty(
      'JWT, POST /v2/<name>/blobs/uploads/',
      forged,
      async (make) => {
        const { token, valid } = make();
        const res = await t.http.post('/v2/admin/app/blobs/uploads/').set('Authorization', `Bearer ${token}`);
        if (valid) {
          if (res.status !== 202) throw new Error(`a valid forged token was refused: ${res.status} ${res.text}`);
          accepted++;
          return;
        }
        expectErrorAnswer(res, [401], `token ${token.slice(0, 200)}`);
        if (parseChallenge(res).error !== 'invalid_token')
          throw new Error(`challenge without invalid_token: ${res.headers['www-authenticate']}`);
      },
      300,
    );
    // The oracle is only worth something if both branches ran.
    expect(accepted).toBeGreaterThan(0);
  });

  it('TokenService.verify refuses a malformed JWT with InvalidTokenError and nothing else', async () => {
    const keys = new SigningKeys(t.identities.signingKeys);
    await keys.init();
    const authenticator = new Authenticator(t.identities);
    const tokens = new TokenService(keys, new Authorizer(t.identities), authenticator, {
      issuer: ISSUER,
      service: SERVICE,
      ttlSeconds: 300,
    });
    await checkProperty(
      'JWT, TokenService.verify directly',
      forged,
      async (make) => {
        const { token, valid } = make();
        try {
          await tokens.verify(token);
          if (!valid) throw new Error(`an invalid token verified: ${token}`);
        } catch (err) {
          if (!(err instanceof InvalidTokenError)) throw err;
          if (valid) throw new Error(`a valid token was refused: ${err.message}`, { cause: err });
        }
      },
      300,
    );
  });

  it('the registry still works after the properties ran', async () => {
    const token = await fetchToken(t.http, { username: 'admin', password: ADMIN_PASSWORD }, ['repository:admin/app:pull,push']);
    expect((await t.http.post('/v2/admin/app/blobs/uploads/').set('Authorization', `Bearer ${token}`)).status).toBe(202);
    expect((await t.http.get('/v2/').set('Authorization', basic('admin', ADMIN_PASSWORD))).status).toBe(200);
  });
});
