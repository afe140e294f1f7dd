/**
 * The token service remembers tokens whose signature already verified, so a
 * client reusing one token pays the ES256 check once. Everything else must
 * still be checked on every use: expiry, the signing key still being
 * active, and the credential behind the token.
 */
import jwt from 'jsonwebtoken';
import { Authenticator } from '../../src/auth/authenticator';
import { Authorizer } from '../../src/auth/authorizer';
import type { Account } from '../../src/auth/stores/account-store';
import type { Credential, Principal } from '../../src/auth/principal';
import { hashSecret, newSecret } from '../../src/auth/secrets';
import { SigningKeys } from '../../src/auth/signing-keys';
import type { IdentityStores } from '../../src/auth/stores/identity-stores';
import { TokenService, type TokenServiceOptions } from '../../src/auth/token-service';
import { openIdentityStores } from './support/identity-stores';

const SCOPES = ['repository:alice/app:pull', 'registry:catalog:*'];

let close: () => Promise<void>;
let identities: IdentityStores;
let keys: SigningKeys;
let authenticator: Authenticator;
let alice: Account;
let verifySpy: jest.SpyInstance;

function tokenService(options: Partial<TokenServiceOptions> = {}): TokenService {
  return new TokenService(keys, new Authorizer(identities), authenticator, {
    issuer: 'berth-cache-spec',
    service: 'berth-cache-spec',
    ttlSeconds: 300,
    ...options,
  });
}

async function principalFor(user: Account, credential: Credential): Promise<Principal> {
  const principal = await authenticator.resolve(credential, user.id);
  if (!principal) throw new Error(`no principal for ${user.name}`);
  return principal;
}

async function addPat(user: Account): Promise<number> {
  const record = await identities.tokens.createAccessToken({
    kind: 'pat',
    userId: user.id,
    repositoryId: null,
    name: 'cache spec',
    scopes: ['read:packages'],
    createdAt: Date.now(),
    expiresAt: null,
    secretHash: hashSecret(newSecret('berth_pat')),
  });
  return record.id;
}

const realNow = Date.now.bind(Date);

/** Moves Date.now to a fixed offset from the real clock; restored after each test. */
function shiftClock(ms: number): void {
  jest.spyOn(Date, 'now').mockImplementation(() => realNow() + ms);
}

beforeEach(async () => {
  ({ identities, close } = await openIdentityStores());
  keys = new SigningKeys(identities.signingKeys);
  await keys.init();
  authenticator = new Authenticator(identities);
  // A password hash is never checked here: tokens are issued for a principal directly.
  alice = await identities.accounts.createAccount('alice', 'user', null, false);
  verifySpy = jest.spyOn(jwt, 'verify');
});

afterEach(async () => {
  jest.restoreAllMocks();
  await close();
});

describe('TokenService verified-token cache', () => {
  test('a token verified twice has its signature checked once and yields the same principal and access', async () => {
    const tokens = tokenService();
    const { token, access } = await tokens.issue(await principalFor(alice, { type: 'password' }), SCOPES);

    const first = await tokens.verify(token);
    expect(verifySpy).toHaveBeenCalledTimes(1);
    const second = await tokens.verify(token);
    expect(verifySpy).toHaveBeenCalledTimes(1);

    expect(second).toEqual(first);
    expect(second.access).toEqual(access);
    expect(second.principal).toMatchObject({ kind: 'user', userId: alice.id, name: 'alice' });
    // Another service instance has no cache: the same token costs it a full verify.
    await tokenService().verify(token);
    expect(verifySpy).toHaveBeenCalledTimes(2);
  });

  test('a caller editing the returned grants does not change what the cached token grants next time', async () => {
    const tokens = tokenService();
    const { token } = await tokens.issue(await principalFor(alice, { type: 'password' }), ['registry:catalog:*']);
    const first = await tokens.verify(token);
    first.access.push({ type: 'repository', name: 'bob/secret', actions: ['pull', 'push', 'delete'] });
    first.access[0]?.actions.push('extra');
    expect((await tokens.verify(token)).access).toEqual([{ type: 'registry', name: 'catalog', actions: ['*'] }]);
  });

  test('a cached token is refused once past its exp, and before its nbf, with jsonwebtoken’s messages', async () => {
    const tokens = tokenService({ ttlSeconds: 60 });
    const { token } = await tokens.issue(await principalFor(alice, { type: 'password' }), SCOPES);
    await tokens.verify(token);
    await tokens.verify(token);
    expect(verifySpy).toHaveBeenCalledTimes(1);

    // The clock stepped back past nbf (issued with 10 s of leeway): refused, as jsonwebtoken would.
    shiftClock(-30_000);
    await expect(tokens.verify(token)).rejects.toThrow('jwt not active');
    expect(verifySpy).toHaveBeenCalledTimes(1);
    await expect(tokenService().verify(token)).rejects.toThrow('jwt not active');

    shiftClock(61_000);
    const callsBefore = verifySpy.mock.calls.length;
    await expect(tokens.verify(token)).rejects.toMatchObject({ name: 'InvalidTokenError', message: 'jwt expired' });
    // Refused by the cache itself, not by falling back to a full verify.
    expect(verifySpy).toHaveBeenCalledTimes(callsBefore);
    expect(tokens.verifiedCacheEntries).toBe(0);
    // The same message an uncached service gets from jsonwebtoken.
    await expect(tokenService().verify(token)).rejects.toMatchObject({ name: 'InvalidTokenError', message: 'jwt expired' });
    // And it stays refused on the full path too.
    await expect(tokens.verify(token)).rejects.toThrow('jwt expired');
  });

  test('a cached token is refused as soon as the PAT behind it is revoked', async () => {
    const tokens = tokenService();
    const patId = await addPat(alice);
    const { token } = await tokens.issue(await principalFor(alice, { type: 'pat', tokenId: patId }), SCOPES);
    expect((await tokens.verify(token)).principal).toMatchObject({ kind: 'user', credential: { type: 'pat', tokenId: patId } });
    await tokens.verify(token);
    expect(verifySpy).toHaveBeenCalledTimes(1);

    await identities.tokens.revokeAccessToken(patId, Date.now());
    await expect(tokens.verify(token)).rejects.toMatchObject({
      name: 'InvalidTokenError',
      message: 'the credential behind this token is no longer valid',
    });
  });

  test('a cached token is refused as soon as its user is deleted', async () => {
    const tokens = tokenService();
    const doomed = await identities.accounts.createAccount('doomed', 'user', null, false);
    const { token } = await tokens.issue(await principalFor(doomed, { type: 'password' }), SCOPES);
    await tokens.verify(token);
    await tokens.verify(token);
    expect(verifySpy).toHaveBeenCalledTimes(1);

    expect(await identities.accounts.deleteAccount(doomed.id)).toBe(true);
    await expect(tokens.verify(token)).rejects.toThrow('the credential behind this token is no longer valid');
  });

  test('a cached token is refused as soon as its signing key is retired; tokens of the newer key still work', async () => {
    const tokens = tokenService();
    const principal = await principalFor(alice, { type: 'password' });
    const old = await tokens.issue(principal, SCOPES);
    const oldKid = jwt.decode(old.token, { complete: true })?.header.kid;
    if (!oldKid) throw new Error('issued token has no kid');
    await tokens.verify(old.token);
    await tokens.verify(old.token);
    expect(verifySpy).toHaveBeenCalledTimes(1);

    const newKid = await keys.rotate();
    const fresh = await tokens.issue(principal, SCOPES);
    expect(jwt.decode(fresh.token, { complete: true })?.header.kid).toBe(newKid);
    // Rotation alone keeps the old token valid, still from the cache.
    await tokens.verify(old.token);
    expect(verifySpy).toHaveBeenCalledTimes(1);

    await keys.retire(oldKid);
    await expect(tokens.verify(old.token)).rejects.toMatchObject({ name: 'InvalidTokenError', message: 'unknown signing key' });
    await expect(tokens.verify(old.token)).rejects.toThrow('unknown signing key');
    await expect(tokens.verify(fresh.token)).resolves.toMatchObject({ principal: { kind: 'user', userId: alice.id } });
  });

  test('a tampered token is refused even after the genuine one was cached', async () => {
    const tokens = tokenService();
    const { token } = await tokens.issue(await principalFor(alice, { type: 'password' }), ['repository:alice/app:pull']);
    await tokens.verify(token);
    await tokens.verify(token);
    expect(verifySpy).toHaveBeenCalledTimes(1);

    const [header, payload, signature] = token.split('.') as [string, string, string];
    // A character in the middle: the last one partly encodes padding bits and may decode the same.
    const i = 10;
    const flipped = signature[i] === 'A' ? 'B' : 'A';
    const badSignature = `${header}.${payload}.${signature.slice(0, i)}${flipped}${signature.slice(i + 1)}`;
    await expect(tokens.verify(badSignature)).rejects.toMatchObject({ name: 'InvalidTokenError', message: 'invalid signature' });

    const widened = {
      ...(jwt.decode(token) as Record<string, unknown>),
      access: [{ type: 'repository', name: 'alice/app', actions: ['pull', 'push', 'delete'] }],
    };
    const badPayload = `${header}.${Buffer.from(JSON.stringify(widened)).toString('base64url')}.${signature}`;
    await expect(tokens.verify(badPayload)).rejects.toThrow('invalid signature');

    // Failures are not remembered: each attempt is checked in full again.
    const calls = verifySpy.mock.calls.length;
    await expect(tokens.verify(badSignature)).rejects.toThrow('invalid signature');
    expect(verifySpy).toHaveBeenCalledTimes(calls + 1);
    expect(tokens.verifiedCacheEntries).toBe(1);
    // The genuine token is unaffected.
    await expect(tokens.verify(token)).resolves.toMatchObject({ principal: { kind: 'user', userId: alice.id } });
  });

  test('the cache stays bounded: the oldest entry is evicted and re-verified, expired entries are dropped', async () => {
    const tokens = tokenService({ verifiedCacheSize: 3, ttlSeconds: 60 });
    const principal = await principalFor(alice, { type: 'password' });
    const issued: string[] = [];
    for (let n = 0; n < 5; n++) issued.push((await tokens.issue(principal, SCOPES)).token);
    for (const token of issued) await tokens.verify(token);
    expect(verifySpy).toHaveBeenCalledTimes(5);
    expect(tokens.verifiedCacheEntries).toBe(3);

    // The newest stayed; the oldest was evicted and costs a full verify again.
    await tokens.verify(issued[4] as string);
    expect(verifySpy).toHaveBeenCalledTimes(5);
    await tokens.verify(issued[0] as string);
    expect(verifySpy).toHaveBeenCalledTimes(6);
    expect(tokens.verifiedCacheEntries).toBe(3);

    // Once they have all expired, the next insertion clears them out rather than keeping them.
    shiftClock(120_000);
    const later = (await tokens.issue(principal, SCOPES)).token;
    await tokens.verify(later);
    expect(tokens.verifiedCacheEntries).toBe(1);
  });
});
