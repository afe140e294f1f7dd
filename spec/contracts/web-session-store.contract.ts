import { useIdentityStores, type IdentityStoresHarness } from './identity-store-harness';

/** The WebSessionStore contract: every implementation runs exactly this suite. */
export function webSessionStoreContract(name: string, harness: IdentityStoresHarness): void {
  describe(`WebSessionStore contract: ${name}`, () => {
    const stores = useIdentityStores(harness);
    const sessions = () => stores().webSessions;
    const NOW = 1_765_000_000_123;

    it("names a session's user until it expires", async () => {
      const alice = await stores().accounts.createAccount('alice', 'user', null, false);
      await sessions().createSession('s1', alice.id, NOW + 1_000);
      expect(await sessions().sessionUser('s1', NOW)).toBe(alice.id);
      expect(await sessions().sessionUser('s1', NOW + 999)).toBe(alice.id);
      expect(await sessions().sessionUser('s1', NOW + 1_000)).toBeNull();
      expect(await sessions().sessionUser('s2', NOW)).toBeNull();
    });

    it('deletes a session (signing out), and all of a user when the user goes', async () => {
      const alice = await stores().accounts.createAccount('alice', 'user', null, false);
      await sessions().createSession('s1', alice.id, NOW + 1_000);
      await sessions().createSession('s2', alice.id, NOW + 1_000);
      await sessions().deleteSession('s1');
      await sessions().deleteSession('never-existed');
      expect(await sessions().sessionUser('s1', NOW)).toBeNull();
      expect(await sessions().sessionUser('s2', NOW)).toBe(alice.id);
      await stores().accounts.deleteAccount(alice.id);
      expect(await sessions().sessionUser('s2', NOW)).toBeNull();
    });
  });
}
