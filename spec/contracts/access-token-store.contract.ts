import type { NewAccessToken } from '../../src/auth/stores/access-token-store';
import { useIdentityStores, type IdentityStoresHarness } from './identity-store-harness';

/** The AccessTokenStore contract (PAT, CI and refresh tokens): every implementation runs exactly this suite. */
export function accessTokenStoreContract(name: string, harness: IdentityStoresHarness): void {
  describe(`AccessTokenStore contract: ${name}`, () => {
    const stores = useIdentityStores(harness);
    const tokens = () => stores().tokens;
    const user = (n: string) => stores().accounts.createAccount(n, 'user', null, false);
    const NOW = 1_765_000_000_123;
    const pat = (userId: number, secretHash: string, over: Partial<NewAccessToken> = {}): NewAccessToken => ({
      kind: 'pat',
      userId,
      repositoryId: null,
      name: `token ${secretHash}`,
      scopes: ['read:packages', 'write:packages'],
      createdAt: NOW,
      expiresAt: NOW + 3_600_000,
      secretHash,
      ...over,
    });

    it('creates a token and finds it by id and by secret hash, without the hash', async () => {
      const alice = await user('alice');
      const created = await tokens().createAccessToken(pat(alice.id, 'h1'));
      expect(created).toEqual({
        id: expect.any(Number),
        kind: 'pat',
        userId: alice.id,
        repositoryId: null,
        name: 'token h1',
        scopes: ['read:packages', 'write:packages'],
        createdAt: NOW,
        expiresAt: NOW + 3_600_000,
        lastUsedAt: null,
        revokedAt: null,
      });
      expect(await tokens().accessToken(created.id)).toEqual(created);
      expect(await tokens().accessTokenBySecret('h1')).toEqual(created);
      expect(await tokens().accessTokenBySecret('h2')).toBeNull();
      expect(await tokens().accessToken(created.id + 1000)).toBeNull();
    });

    it("keeps a CI token's repository and a token without expiry", async () => {
      const alice = await user('alice');
      const repo = await stores().repositories.createRepository(alice.id, 'app', 'private');
      const ci = await tokens().createAccessToken(pat(alice.id, 'ci', { kind: 'ci', repositoryId: repo.id, expiresAt: null, scopes: [] }));
      expect(await tokens().accessToken(ci.id)).toMatchObject({ kind: 'ci', repositoryId: repo.id, expiresAt: null, scopes: [] });
    });

    it("lists a user's tokens in creation order, records use, and revokes once", async () => {
      const alice = await user('alice');
      const bob = await user('bob');
      const first = await tokens().createAccessToken(pat(alice.id, 'a1'));
      await tokens().createAccessToken(pat(bob.id, 'b1'));
      const second = await tokens().createAccessToken(pat(alice.id, 'a2'));
      expect((await tokens().listAccessTokens(alice.id)).map((t) => t.id)).toEqual([first.id, second.id]);
      await tokens().touchAccessToken(first.id, NOW + 5);
      expect(await tokens().revokeAccessToken(first.id, NOW + 10)).toBe(true);
      expect(await tokens().revokeAccessToken(first.id, NOW + 20)).toBe(false);
      expect(await tokens().revokeAccessToken(first.id + 1000, NOW)).toBe(false);
      expect(await tokens().accessToken(first.id)).toMatchObject({ lastUsedAt: NOW + 5, revokedAt: NOW + 10 });
    });

    it('creates refresh tokens, for a password login or an access token, and finds them', async () => {
      const alice = await user('alice');
      const token = await tokens().createAccessToken(pat(alice.id, 'a1'));
      const viaPassword = await tokens().createRefreshToken(alice.id, null, 'r1', NOW + 1_000);
      const viaToken = await tokens().createRefreshToken(alice.id, token.id, 'r2', NOW + 2_000);
      expect(viaPassword).toEqual({
        id: expect.any(Number),
        userId: alice.id,
        accessTokenId: null,
        expiresAt: NOW + 1_000,
        revokedAt: null,
      });
      expect(await tokens().refreshToken(viaPassword.id)).toEqual(viaPassword);
      expect(await tokens().refreshTokenBySecret('r2')).toEqual(viaToken);
      expect(await tokens().refreshTokenBySecret('r3')).toBeNull();
    });

    it('go with their user and CI repository; a refresh token goes with the access token it came from', async () => {
      const alice = await user('alice');
      const bob = await user('bob');
      const repo = await stores().repositories.createRepository(bob.id, 'app', 'private');
      const alicePat = await tokens().createAccessToken(pat(alice.id, 'a1'));
      const aliceRefresh = await tokens().createRefreshToken(alice.id, null, 'r1', NOW);
      const bobCi = await tokens().createAccessToken(pat(bob.id, 'b1', { kind: 'ci', repositoryId: repo.id }));
      const bobRefresh = await tokens().createRefreshToken(bob.id, bobCi.id, 'r2', NOW);
      await stores().accounts.deleteAccount(alice.id);
      expect(await tokens().accessToken(alicePat.id)).toBeNull();
      expect(await tokens().refreshToken(aliceRefresh.id)).toBeNull();
      await stores().repositories.deleteRepository(repo.id);
      expect(await tokens().accessToken(bobCi.id)).toBeNull();
      expect(await tokens().refreshToken(bobRefresh.id)).toBeNull();
    });
  });
}
