/**
 * What a change of permissions does to access already handed out (issue 20),
 * pinned as the README's Identity section documents it:
 *   - Basic credentials are checked against the live model on every request:
 *     a removed collaborator or a repository gone private bites at once;
 *   - a JWT from /token carries its grants: one issued before the change
 *     keeps them until it expires (`BERTH_TOKEN_TTL_SECONDS`), and no longer;
 *   - the credential behind a JWT is re-resolved on every request: revoking
 *     or expiring a CI token (or PAT) stops its JWTs at once, even before
 *     their own expiry.
 * Time is moved by stubbing `Date.now` (the registry runs in this process),
 * never waited for.
 */
import type { Response } from 'supertest';
import {
  ADMIN_PASSWORD,
  addCiToken,
  addUser,
  basic,
  decodeJwt,
  fetchToken,
  startAuthRegistry,
  type AuthTestRegistry,
} from './support/auth-registry';
import { getManifest, postBlob, seedPackage, type AuthHeader } from './support/registry-ops';
import { blob } from '../support/oci';

const code = (res: Response) => ({ status: res.status, code: res.body?.errors?.[0]?.code as string | undefined });
const UNAUTHORIZED = { status: 401, code: 'UNAUTHORIZED' };

/** Runs `fn` with the registry's clock `ms` ahead. */
async function later<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  const now = Date.now();
  const spy = jest.spyOn(Date, 'now').mockImplementation(() => now + ms);
  try {
    return await fn();
  } finally {
    spy.mockRestore();
  }
}

describe('access after permissions change', () => {
  let t: AuthTestRegistry;
  let privRepo = 0;
  let pubRepo = 0;
  const bob = { username: 'bob', password: 'bob-password' };
  const mallory = { username: 'mallory', password: 'mallory-password' };

  beforeAll(async () => {
    t = await startAuthRegistry();
    const ids = t.identities;
    const alice = await addUser(ids, 'alice');
    const bobAccount = await addUser(ids, 'bob');
    await addUser(ids, 'mallory');
    privRepo = (await ids.repositories.createRepository(alice.id, 'priv', 'private')).id;
    pubRepo = (await ids.repositories.createRepository(alice.id, 'pub', 'public')).id;
    await ids.repositories.setCollaborator(privRepo, bobAccount.id, 'read');
    for (const [name, repositoryId] of [
      ['alice/priv-img', privRepo],
      ['alice/pub-img', pubRepo],
    ] as const) {
      await ids.packages.ensurePackage({
        name,
        ownerId: alice.id,
        sourceRepositoryId: repositoryId,
        visibility: 'private',
        createdAt: Date.now(),
      });
      await seedPackage(t.http, basic('admin', ADMIN_PASSWORD), name, 'v1');
    }
  });

  afterAll(async () => {
    await t?.close();
  });

  const pull = (auth: AuthHeader, name: string) => getManifest(t.http, auth, name, 'v1');

  test('a collaborator removed: Basic and new tokens lose access at once; a token issued before keeps it until it expires', async () => {
    const before = `Bearer ${await fetchToken(t.http, bob, ['repository:alice/priv-img:pull'])}`;
    expect((await pull(basic(bob.username, bob.password), 'alice/priv-img')).status).toBe(200);
    expect((await pull(before, 'alice/priv-img')).status).toBe(200);

    const bobId = (await t.identities.accounts.accountByName('bob'))?.id ?? 0;
    await t.identities.repositories.setCollaborator(privRepo, bobId, null);

    expect(code(await pull(basic(bob.username, bob.password), 'alice/priv-img'))).toEqual({ status: 403, code: 'DENIED' });
    const after = await fetchToken(t.http, bob, ['repository:alice/priv-img:pull']);
    expect(decodeJwt(after).payload.access).toEqual([{ type: 'repository', name: 'alice/priv-img', actions: [] }]);
    expect(code(await pull(`Bearer ${after}`, 'alice/priv-img'))).toEqual(UNAUTHORIZED);

    // The bound: the old token's grants stand until its exp, BERTH_TOKEN_TTL_SECONDS after it was issued.
    expect((await pull(before, 'alice/priv-img')).status).toBe(200);
    const { iat, exp } = decodeJwt(before.slice('Bearer '.length)).payload as { iat: number; exp: number };
    expect(exp - iat).toBe(t.config.auth.tokenTtlSeconds);
    const untilExp = exp * 1000 - Date.now();
    expect((await later(untilExp - 5_000, () => pull(before, 'alice/priv-img'))).status).toBe(200);
    expect(code(await later(untilExp + 1_000, () => pull(before, 'alice/priv-img')))).toEqual(UNAUTHORIZED);
  });

  test('a repository gone private: anonymous and unrelated callers lose access at once; an anonymous token issued before keeps it until it expires', async () => {
    const anonymousBefore = `Bearer ${await fetchToken(t.http, null, ['repository:alice/pub-img:pull'])}`;
    expect((await pull(null, 'alice/pub-img')).status).toBe(200);
    expect((await pull(basic(mallory.username, mallory.password), 'alice/pub-img')).status).toBe(200);
    expect((await pull(anonymousBefore, 'alice/pub-img')).status).toBe(200);

    await t.identities.repositories.setRepositoryVisibility(pubRepo, 'private');

    expect(code(await pull(null, 'alice/pub-img'))).toEqual(UNAUTHORIZED);
    expect(code(await pull(basic(mallory.username, mallory.password), 'alice/pub-img'))).toEqual({ status: 403, code: 'DENIED' });
    const malloryAfter = await fetchToken(t.http, mallory, ['repository:alice/pub-img:pull']);
    expect(code(await pull(`Bearer ${malloryAfter}`, 'alice/pub-img'))).toEqual(UNAUTHORIZED);

    expect((await pull(anonymousBefore, 'alice/pub-img')).status).toBe(200);
    const { exp } = decodeJwt(anonymousBefore.slice('Bearer '.length)).payload as { exp: number };
    expect(code(await later(exp * 1000 - Date.now() + 1_000, () => pull(anonymousBefore, 'alice/pub-img')))).toEqual(UNAUTHORIZED);
  });

  describe('CI tokens', () => {
    /** A fresh CI token for alice/priv, its Basic header and a JWT minted from it for push. */
    async function ciToken(expiresInMs = 3600_000) {
      const alice = await t.identities.accounts.accountByName('alice');
      if (!alice) throw new Error('no alice');
      const { secret, record } = await addCiToken(t.identities, alice, privRepo);
      await t.db.run('UPDATE access_tokens SET expires_at = ? WHERE id = ?', [Date.now() + expiresInMs, record.id]);
      const jwt = `Bearer ${await fetchToken(t.http, { username: 'ci', password: secret }, ['repository:alice/priv-img:pull,push'])}`;
      return { record, basicAuth: basic('ci', secret), jwt };
    }

    const push = (auth: AuthHeader) => postBlob(t.http, auth, 'alice/priv-img', blob(`pushed by CI ${Math.random()}`));

    test('revoked: its Basic login and the JWTs minted from it stop at once', async () => {
      const ci = await ciToken();
      expect((await push(ci.basicAuth)).status).toBe(201);
      expect((await push(ci.jwt)).status).toBe(201);
      expect(await t.identities.tokens.revokeAccessToken(ci.record.id, Date.now())).toBe(true);
      // The Basic login was cached a moment ago; the cache re-checks the token.
      expect(code(await push(ci.basicAuth))).toEqual(UNAUTHORIZED);
      expect(code(await push(ci.jwt))).toEqual(UNAUTHORIZED);
      expect(code(await pull(ci.jwt, 'alice/priv-img'))).toEqual(UNAUTHORIZED);
    });

    test('expired: refused from its expiry, also through a JWT that would itself live longer', async () => {
      const ci = await ciToken(60_000);
      const { exp } = decodeJwt(ci.jwt.slice('Bearer '.length)).payload as { exp: number };
      expect(exp * 1000).toBeGreaterThan(Date.now() + 120_000);
      expect((await later(30_000, () => push(ci.basicAuth))).status).toBe(201);
      expect((await later(30_000, () => push(ci.jwt))).status).toBe(201);
      expect(code(await later(61_000, () => push(ci.basicAuth)))).toEqual(UNAUTHORIZED);
      expect(code(await later(61_000, () => push(ci.jwt)))).toEqual(UNAUTHORIZED);
      expect(code(await later(61_000, async () => t.http.get('/token?service=berth-spec').set('Authorization', ci.basicAuth)))).toEqual(
        UNAUTHORIZED,
      );
    });
  });
});
