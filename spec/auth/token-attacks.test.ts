/**
 * Attacks on the token service and the bearer flow (issue 8), plus the token
 * endpoint's OAuth2 form, the JWT's shape, failed-login throttling and key
 * rotation. Every forged, stale or misdirected credential must be refused:
 * a token that does not verify is 401 UNAUTHORIZED with
 * `error="invalid_token"`; a valid token that lacks the action is 401 with
 * `error="insufficient_scope"` (Docker token spec); a bad password or token
 * at /token is 401 UNAUTHORIZED.
 */
import { createHmac, createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import request, { type Response } from 'supertest';
import { createLogger } from '../../src/log';
import { createRegistry } from '../../src/composition-root';
import { SigningKeys } from '../../src/auth/signing-keys';
import { hashPassword } from '../../src/auth/secrets';
import type { Account } from '../../src/auth/stores/account-store';
import {
  ISSUER,
  SERVICE,
  addPat,
  addUser,
  basic,
  decodeJwt,
  fetchToken,
  parseChallenge,
  startAuthRegistry,
  tokenRequest,
  type AuthTestRegistry,
} from './support/auth-registry';
import { getManifest, manifestFor, postBlob, putManifest, seedPackage, type PackageContent } from './support/registry-ops';
import { blob } from '../support/oci';

type Claims = Record<string, unknown>;

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Builds a JWT by hand, so the spec controls every byte (jsonwebtoken refuses to sign most of these). */
function forge(header: Claims, payload: Claims, signer: (input: string) => string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signer(input)}`;
}
const es256 = (key: KeyObject | string) => (input: string) =>
  sign('sha256', Buffer.from(input), { key: typeof key === 'string' ? createPrivateKey(key) : key, dsaEncoding: 'ieee-p1363' }).toString(
    'base64url',
  );

function expectInvalidToken(res: Response): void {
  expect({ status: res.status, code: res.body?.errors?.[0]?.code }).toEqual({ status: 401, code: 'UNAUTHORIZED' });
  const challenge = parseChallenge(res);
  expect(challenge.service).toBe(SERVICE);
  expect(challenge.error).toBe('invalid_token');
}

function expectInsufficientScope(res: Response, scope: string): void {
  expect({ status: res.status, code: res.body?.errors?.[0]?.code }).toEqual({ status: 401, code: 'UNAUTHORIZED' });
  const challenge = parseChallenge(res);
  expect(challenge).toMatchObject({ service: SERVICE, scope, error: 'insufficient_scope' });
}

function expectUnauthorized(res: Response): void {
  expect({ status: res.status, code: res.body?.errors?.[0]?.code }).toEqual({ status: 401, code: 'UNAUTHORIZED' });
}

describe('token attacks', () => {
  let t: AuthTestRegistry;
  let alice: Account;
  const aliceCreds = { username: 'alice', password: 'alice-password' };
  const PUSH_A = 'repository:alice/a:pull,push';
  let contentA: PackageContent;
  let signingKey: { kid: string; privatePem: string; publicPem: string };

  beforeAll(async () => {
    t = await startAuthRegistry();
    alice = await addUser(t.identities, 'alice');
    await addUser(t.identities, 'bob');
    // alice/a and alice/b: private packages of alice, created by her first pushes.
    contentA = await seedPackage(t.http, basic('alice', 'alice-password'), 'alice/a', 'v1');
    await seedPackage(t.http, basic('alice', 'alice-password'), 'alice/b', 'v1');
    const keys = (await t.identities.signingKeys.signingKeys()).filter((k) => k.retiredAt === null);
    expect(keys).toHaveLength(1);
    signingKey = keys[0] as (typeof keys)[number];
  });

  afterAll(async () => {
    await t?.close();
  });

  /** A genuine token's payload with changes, to be re-signed by whoever the test says. */
  async function genuinePayload(changes: Claims = {}): Promise<Claims> {
    const token = await fetchToken(t.http, aliceCreds, [PUSH_A]);
    return { ...decodeJwt(token).payload, ...changes };
  }
  const pushBlobWith = (token: string, name = 'alice/a') => postBlob(t.http, `Bearer ${token}`, name, blob(`attack ${Math.random()}`));
  const pullWith = (token: string, name = 'alice/a') => getManifest(t.http, `Bearer ${token}`, name, 'v1');

  test('control: a genuine token, re-signed by the spec with the registry key, is accepted', async () => {
    const payload = await genuinePayload();
    const token = forge({ alg: 'ES256', typ: 'JWT', kid: signingKey.kid }, payload, es256(signingKey.privatePem));
    expect((await pullWith(token)).status).toBe(200);
    expect((await pushBlobWith(token)).status).toBe(201);
  });

  test('alg: none is refused (with and without a known kid)', async () => {
    const payload = await genuinePayload();
    for (const header of [
      { alg: 'none', typ: 'JWT', kid: signingKey.kid },
      { alg: 'none', typ: 'JWT' },
      { alg: 'None', typ: 'JWT', kid: signingKey.kid },
    ]) {
      const token = forge(header, payload, () => '');
      expectInvalidToken(await pullWith(token));
      expectInvalidToken(await pushBlobWith(token));
    }
  });

  test('HS256 signed with the public key PEM is refused', async () => {
    const payload = await genuinePayload();
    for (const secret of [signingKey.publicPem, signingKey.publicPem.trim()]) {
      const token = forge({ alg: 'HS256', typ: 'JWT', kid: signingKey.kid }, payload, (input) =>
        createHmac('sha256', secret).update(input).digest('base64url'),
      );
      expectInvalidToken(await pullWith(token));
      expectInvalidToken(await pushBlobWith(token));
    }
  });

  test('a token signed by a foreign ES256 key is refused, whether it names our kid or its own', async () => {
    const foreign = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const payload = await genuinePayload();
    expectInvalidToken(await pullWith(forge({ alg: 'ES256', typ: 'JWT', kid: signingKey.kid }, payload, es256(foreign))));
    expectInvalidToken(await pullWith(forge({ alg: 'ES256', typ: 'JWT', kid: 'foreign-key' }, payload, es256(foreign))));
    // An unknown kid, even with our signature, verifies nothing.
    expectInvalidToken(await pullWith(forge({ alg: 'ES256', typ: 'JWT', kid: 'no-such-kid' }, payload, es256(signingKey.privatePem))));
    expectInvalidToken(await pullWith(forge({ alg: 'ES256', typ: 'JWT' }, payload, es256(signingKey.privatePem))));
  });

  test('expired, not-yet-valid, wrong audience and wrong issuer tokens are refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, Claims]> = [
      ['expired', { iat: now - 600, nbf: now - 600, exp: now - 60 }],
      ['not yet valid', { nbf: now + 3600, exp: now + 7200 }],
      ['wrong aud', { aud: 'some-other-registry' }],
      ['wrong iss', { iss: 'https://evil.example/token' }],
      ['no exp', { exp: undefined }],
    ];
    for (const [label, changes] of cases) {
      const token = forge({ alg: 'ES256', typ: 'JWT', kid: signingKey.kid }, await genuinePayload(changes), es256(signingKey.privatePem));
      const res = await pullWith(token);
      expect({ label, status: res.status }).toEqual({ label, status: 401 });
      expectInvalidToken(res);
    }
  });

  test('a tampered payload (pull widened to push and delete) is refused', async () => {
    const token = await fetchToken(t.http, aliceCreds, ['repository:alice/a:pull']);
    const [h, , s] = token.split('.');
    const payload = { ...decodeJwt(token).payload, access: [{ type: 'repository', name: 'alice/a', actions: ['pull', 'push', 'delete'] }] };
    const tampered = `${h}.${b64(payload)}.${s}`;
    expectInvalidToken(await pushBlobWith(tampered));
    expectInvalidToken(await pullWith(tampered));
  });

  test('a token for repository A is refused on repository B', async () => {
    const token = await fetchToken(t.http, aliceCreds, [PUSH_A]);
    expect((await pullWith(token, 'alice/a')).status).toBe(200);
    expectInsufficientScope(await pullWith(token, 'alice/b'), 'repository:alice/b:pull');
    expectInsufficientScope(await pushBlobWith(token, 'alice/b'), 'repository:alice/b:pull,push');
  });

  test('a pull token is refused for push and delete', async () => {
    const token = await fetchToken(t.http, aliceCreds, ['repository:alice/a:pull']);
    expect((await pullWith(token)).status).toBe(200);
    expectInsufficientScope(await pushBlobWith(token), 'repository:alice/a:pull,push');
    const m = manifestFor(contentA, 'pull token push');
    expectInsufficientScope(await putManifest(t.http, `Bearer ${token}`, 'alice/a', m.digest, m.content), 'repository:alice/a:pull,push');
    const del = await t.http.delete(`/v2/alice/a/manifests/${m.digest}`).set('Authorization', `Bearer ${token}`);
    expectInsufficientScope(del, 'repository:alice/a:delete');
  });

  test('bob cannot get a token that grants him anything on alice’s private package', async () => {
    const token = await fetchToken(t.http, { username: 'bob', password: 'bob-password' }, ['repository:alice/a:pull,push,delete']);
    expect(decodeJwt(token).payload.access).toEqual([{ type: 'repository', name: 'alice/a', actions: [] }]);
    expectInsufficientScope(await pullWith(token), 'repository:alice/a:pull');
  });

  test('a revoked PAT is refused at /token, on /v2 with Basic, and in JWTs minted before the revocation', async () => {
    const pat = await addPat(t.identities, alice, ['write:packages']);
    const creds = { username: 'alice', password: pat.secret };
    const minted = await fetchToken(t.http, creds, [PUSH_A]);
    expect((await pushBlobWith(minted)).status).toBe(201);
    expect((await getManifest(t.http, basic('alice', pat.secret), 'alice/a', 'v1')).status).toBe(200);

    await t.identities.tokens.revokeAccessToken(pat.record.id, Date.now());
    expectUnauthorized(await tokenRequest(t.http, creds, [PUSH_A]));
    expectUnauthorized(await getManifest(t.http, basic('alice', pat.secret), 'alice/a', 'v1'));
    expectInvalidToken(await pullWith(minted));
    expectInvalidToken(await pushBlobWith(minted));
    // And the password grant refuses it too.
    const form = await t.http
      .post('/token')
      .type('form')
      .send({ grant_type: 'password', username: 'alice', password: pat.secret, service: SERVICE });
    expectUnauthorized(form);
  });

  test('an expired PAT is refused', async () => {
    const pat = await addPat(t.identities, alice, ['read:packages'], Date.now() - 1000);
    expectUnauthorized(await tokenRequest(t.http, { username: 'alice', password: pat.secret }, ['repository:alice/a:pull']));
    expectUnauthorized(await getManifest(t.http, basic('alice', pat.secret), 'alice/a', 'v1'));
  });

  // Failed logins count per client address too, in the database: start these with none on record.
  describe('revocation', () => {
    beforeAll(async () => {
      await t.restart();
      await t.forgetFailedLogins();
    });

    test('an old password stops working as soon as it is changed', async () => {
      const carl = await addUser(t.identities, 'carl', 'first-password');
      const old = { username: 'carl', password: 'first-password' };
      expect((await tokenRequest(t.http, old, [])).status).toBe(200);
      expect((await t.http.get('/v2/').set('Authorization', basic('carl', 'first-password'))).status).toBe(200);
      await t.identities.accounts.setPassword(carl.id, await hashPassword('second-password'));
      expectUnauthorized(await tokenRequest(t.http, old, []));
      expectUnauthorized(await t.http.get('/v2/').set('Authorization', basic('carl', 'first-password')));
      expect((await tokenRequest(t.http, { username: 'carl', password: 'second-password' }, [])).status).toBe(200);
    });

    test('a deleted user is refused at /token, on /v2 with Basic, and in JWTs minted before the deletion', async () => {
      const doomed = await addUser(t.identities, 'doomed');
      const creds = { username: 'doomed', password: 'doomed-password' };
      const pat = await addPat(t.identities, doomed, ['write:packages']);
      await seedPackage(t.http, basic('doomed', 'doomed-password'), 'doomed/app', 'v1');
      const minted = await fetchToken(t.http, creds, ['repository:doomed/app:pull,push']);
      const mintedFromPat = await fetchToken(t.http, { username: 'doomed', password: pat.secret }, ['repository:doomed/app:pull']);
      expect((await pullWith(minted, 'doomed/app')).status).toBe(200);

      expect(await t.identities.accounts.deleteAccount(doomed.id)).toBe(true);
      expectUnauthorized(await tokenRequest(t.http, creds, ['repository:doomed/app:pull']));
      expectUnauthorized(await tokenRequest(t.http, { username: 'doomed', password: pat.secret }, ['repository:doomed/app:pull']));
      expectUnauthorized(await getManifest(t.http, basic('doomed', 'doomed-password'), 'doomed/app', 'v1'));
      expectInvalidToken(await pullWith(minted, 'doomed/app'));
      expectInvalidToken(await pullWith(mintedFromPat, 'doomed/app'));
    });

    test('refresh tokens stop working when revoked, when their PAT is revoked, and when their user is deleted', async () => {
      const offline = async (password: string, username = 'alice') => {
        const res = await t.http
          .post('/token')
          .type('form')
          .send({ grant_type: 'password', username, password, service: SERVICE, access_type: 'offline', client_id: 'spec', scope: PUSH_A });
        expect(res.status).toBe(200);
        return res.body.refresh_token as string;
      };
      const refresh = (refreshToken: string) =>
        t.http
          .post('/token')
          .type('form')
          .send({ grant_type: 'refresh_token', refresh_token: refreshToken, service: SERVICE, client_id: 'spec', scope: PUSH_A });

      // Revoked directly (the store has no revoke call yet; the column is what the authenticator reads).
      const direct = await offline('alice-password');
      expect((await refresh(direct)).status).toBe(200);
      await t.db.run('UPDATE refresh_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND access_token_id IS NULL', [Date.now()]);
      expectUnauthorized(await refresh(direct));

      // Minted from a PAT login: revoking the PAT ends the refresh token and JWTs minted from it.
      const pat = await addPat(t.identities, alice, ['write:packages']);
      const viaPat = await offline(pat.secret);
      const refreshed = await refresh(viaPat);
      expect(refreshed.status).toBe(200);
      const jwtFromRefresh = refreshed.body.access_token as string;
      expect((await pushBlobWith(jwtFromRefresh)).status).toBe(201);
      await t.identities.tokens.revokeAccessToken(pat.record.id, Date.now());
      expectUnauthorized(await refresh(viaPat));
      expectInvalidToken(await pullWith(jwtFromRefresh));

      // The user deleted.
      const gone = await addUser(t.identities, 'gone');
      const ofGone = await offline('gone-password', 'gone');
      expect((await refresh(ofGone)).status).toBe(200);
      await t.identities.accounts.deleteAccount(gone.id);
      expectUnauthorized(await refresh(ofGone));

      // A made-up refresh token.
      expectUnauthorized(await refresh('berth_rt_not-a-real-token'));
    });
  });
});

describe('token endpoint', () => {
  let t: AuthTestRegistry;

  beforeAll(async () => {
    t = await startAuthRegistry();
    await addUser(t.identities, 'alice');
    await seedPackage(t.http, basic('alice', 'alice-password'), 'alice/app', 'v1');
  });

  afterAll(async () => {
    await t?.close();
  });

  test('a 401 on /v2 names the token realm and service; GET /token answers token, access_token, expires_in, issued_at', async () => {
    const challenged = await getManifest(t.http, null, 'alice/app', 'v1');
    expect(challenged.status).toBe(401);
    expect(parseChallenge(challenged)).toMatchObject({ service: SERVICE, scope: 'repository:alice/app:pull' });
    const res = await tokenRequest(t.http, { username: 'alice', password: 'alice-password' }, ['repository:alice/app:pull']);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ token: expect.any(String), access_token: res.body.token, expires_in: 300, issued_at: expect.any(String) });
    expect(new Date(res.body.issued_at as string).toISOString()).toBe(res.body.issued_at);
  });

  test('the JWT carries iss, sub, aud, exp, nbf, iat, jti and access, with an ES256 header naming its kid', async () => {
    const token = await fetchToken(t.http, { username: 'alice', password: 'alice-password' }, [
      'repository:alice/app:pull,push',
      'registry:catalog:*',
    ]);
    const { header, payload } = decodeJwt(token);
    expect(header).toMatchObject({ alg: 'ES256', kid: expect.any(String) });
    const now = Math.floor(Date.now() / 1000);
    expect(payload).toMatchObject({
      iss: ISSUER,
      sub: 'alice',
      aud: SERVICE,
      exp: expect.any(Number),
      nbf: expect.any(Number),
      iat: expect.any(Number),
      jti: expect.any(String),
      access: [
        { type: 'repository', name: 'alice/app', actions: ['pull', 'push'] },
        { type: 'registry', name: 'catalog', actions: ['*'] },
      ],
    });
    expect(payload.exp as number).toBe((payload.iat as number) + 300);
    expect(payload.nbf as number).toBeLessThanOrEqual(now);
    expect(Math.abs((payload.iat as number) - now)).toBeLessThan(5);
    const again = decodeJwt(await fetchToken(t.http, { username: 'alice', password: 'alice-password' }, []));
    expect(again.payload.jti).not.toBe(payload.jti);
    // The kid is published with the verifying keys.
    const jwks = await t.http.get('/token/jwks.json');
    expect((jwks.body.keys as Array<{ kid: string }>).map((k) => k.kid)).toContain(header.kid);
  });

  test('an anonymous token names no subject and grants only what is public', async () => {
    const token = await fetchToken(t.http, null, ['repository:alice/app:pull', 'registry:catalog:*']);
    const { payload } = decodeJwt(token);
    expect(payload.sub).toBe('');
    expect(payload.access).toEqual([{ type: 'repository', name: 'alice/app', actions: [] }]);
  });

  test('POST /token: the password grant with access_type=offline returns a refresh_token that works with grant_type=refresh_token', async () => {
    const login = await t.http.post('/token').type('form').send({
      grant_type: 'password',
      username: 'alice',
      password: 'alice-password',
      service: SERVICE,
      client_id: 'docker',
      access_type: 'offline',
      scope: 'repository:alice/app:pull',
    });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({
      access_token: expect.any(String),
      refresh_token: expect.stringMatching(/^berth_rt_/),
      expires_in: 300,
    });
    // Without access_type=offline there is no refresh token.
    const online = await t.http
      .post('/token')
      .type('form')
      .send({ grant_type: 'password', username: 'alice', password: 'alice-password', service: SERVICE, client_id: 'docker' });
    expect(online.status).toBe(200);
    expect(online.body.refresh_token).toBeUndefined();

    const refreshed = await t.http.post('/token').type('form').send({
      grant_type: 'refresh_token',
      refresh_token: login.body.refresh_token,
      service: SERVICE,
      client_id: 'docker',
      scope: 'repository:alice/app:pull,push',
    });
    expect(refreshed.status).toBe(200);
    const token = refreshed.body.access_token as string;
    expect(decodeJwt(token).payload).toMatchObject({
      sub: 'alice',
      access: [{ type: 'repository', name: 'alice/app', actions: ['pull', 'push'] }],
    });
    expect((await getManifest(t.http, `Bearer ${token}`, 'alice/app', 'v1')).status).toBe(200);
    expect((await postBlob(t.http, `Bearer ${token}`, 'alice/app', blob('via refresh'))).status).toBe(201);

    const wrong = await t.http
      .post('/token')
      .type('form')
      .send({ grant_type: 'password', username: 'alice', password: 'nope', service: SERVICE });
    expectUnauthorized(wrong);
    const unknownGrant = await t.http.post('/token').type('form').send({ grant_type: 'client_credentials' });
    expect(unknownGrant.status).toBe(400);
  });

  test('a wrong password on /v2 Basic is 401 UNAUTHORIZED with a Bearer challenge', async () => {
    const res = await getManifest(t.http, basic('alice', 'wrong'), 'alice/app', 'v1');
    expectUnauthorized(res);
    expect(parseChallenge(res)).toMatchObject({ service: SERVICE });
  });

  test('key rotation: old tokens stay valid until the old key is retired', async () => {
    const creds = { username: 'alice', password: 'alice-password' };
    const old = await fetchToken(t.http, creds, ['repository:alice/app:pull']);
    const oldKid = decodeJwt(old).header.kid as string;

    // Rotate through the store, as another replica (or the management CLI) would.
    const newKid = await new SigningKeys(t.identities.signingKeys).rotate();
    expect(newKid).not.toBe(oldKid);
    const realNow = Date.now.bind(Date);
    // The running registry re-reads its keys within a minute: step past that.
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 61_000);
    try {
      const fresh = await fetchToken(t.http, creds, ['repository:alice/app:pull']);
      expect(decodeJwt(fresh).header.kid).toBe(newKid);
      expect((await getManifest(t.http, `Bearer ${old}`, 'alice/app', 'v1')).status).toBe(200);
      expect((await getManifest(t.http, `Bearer ${fresh}`, 'alice/app', 'v1')).status).toBe(200);
      const jwks = await t.http.get('/token/jwks.json');
      expect((jwks.body.keys as Array<{ kid: string }>).map((k) => k.kid).sort()).toEqual([oldKid, newKid].sort());

      await new SigningKeys(t.identities.signingKeys).retire(oldKid);
      clock.mockImplementation(() => realNow() + 122_000);
      expectInvalidToken(await getManifest(t.http, `Bearer ${old}`, 'alice/app', 'v1'));
      expect((await getManifest(t.http, `Bearer ${fresh}`, 'alice/app', 'v1')).status).toBe(200);
      const after = await t.http.get('/token/jwks.json');
      expect((after.body.keys as Array<{ kid: string }>).map((k) => k.kid)).toEqual([newKid]);
    } finally {
      clock.mockRestore();
    }
  });
});

describe('failed-login throttling', () => {
  let t: AuthTestRegistry;

  beforeAll(async () => {
    t = await startAuthRegistry();
    await addUser(t.identities, 'alice');
  });

  afterAll(async () => {
    await t?.close();
  });

  test('repeated failures answer 429 TOOMANYREQUESTS with Retry-After, even for the right password', async () => {
    let failures = 0;
    let res: Response | undefined;
    for (; failures < 50; failures++) {
      res = await tokenRequest(t.http, { username: 'alice', password: `guess-${failures}` }, []);
      if (res.status !== 401) break;
    }
    if (!res) throw new Error('no response');
    expect({ status: res.status, code: res.body?.errors?.[0]?.code }).toEqual({ status: 429, code: 'TOOMANYREQUESTS' });
    expect(failures).toBeGreaterThanOrEqual(3);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    // Locked out: the right password, /v2 Basic and the POST form are all refused alike.
    const right = await tokenRequest(t.http, { username: 'alice', password: 'alice-password' }, []);
    expect({ status: right.status, code: right.body?.errors?.[0]?.code }).toEqual({ status: 429, code: 'TOOMANYREQUESTS' });
    const v2 = await t.http.get('/v2/').set('Authorization', basic('alice', 'alice-password'));
    expect(v2.status).toBe(429);
    const form = await t.http.post('/token').type('form').send({ grant_type: 'password', username: 'alice', password: 'alice-password' });
    expect(form.status).toBe(429);
  });

  test('a few failures by others at the same address do not lock a user out; a flood from it does', async () => {
    await t.forgetFailedLogins();
    await addUser(t.identities, 'bob');
    // Typos by many users behind one address (NAT, CI fleet, proxy): bob still gets in.
    for (let i = 0; i < 12; i++) expectUnauthorized(await tokenRequest(t.http, { username: `user${i}`, password: 'typo' }, []));
    expect((await tokenRequest(t.http, { username: 'bob', password: 'bob-password' }, [])).status).toBe(200);
    // Spraying many names from one address is stopped, for everyone at that address.
    let status = 401;
    for (let i = 0; i < 200 && status === 401; i++) {
      status = (await tokenRequest(t.http, { username: `spray${i}`, password: 'guess' }, [])).status;
    }
    expect(status).toBe(429);
    expect((await tokenRequest(t.http, { username: 'bob', password: 'bob-password' }, [])).status).toBe(429);
  });

  test('the lockout holds across a restart and for every process on the database (workers, replicas)', async () => {
    await t.forgetFailedLogins();
    await addUser(t.identities, 'carol');
    let status = 401;
    for (let i = 0; i < 50 && status === 401; i++)
      status = (await tokenRequest(t.http, { username: 'carol', password: `guess-${i}` }, [])).status;
    expect(status).toBe(429);
    // A second registry on the same data directory: another worker or replica.
    const other = await createRegistry(t.config, createLogger('silent'));
    try {
      const there = await request(other.app).get('/v2/').set('Authorization', basic('carol', 'carol-password'));
      expect(there.status).toBe(429);
    } finally {
      await other.close();
    }
    await t.restart();
    expect((await tokenRequest(t.http, { username: 'carol', password: 'carol-password' }, [])).status).toBe(429);
    await t.forgetFailedLogins();
    expect((await tokenRequest(t.http, { username: 'carol', password: 'carol-password' }, [])).status).toBe(200);
  });
});
