import { NameTakenError } from '../../src/persistence/unique-violation';
import { useIdentityStores, type IdentityStoresHarness } from './identity-store-harness';

/** The AccountStore contract (users, organisations, memberships): every implementation runs exactly this suite. */
export function accountStoreContract(name: string, harness: IdentityStoresHarness): void {
  describe(`AccountStore contract: ${name}`, () => {
    const stores = useIdentityStores(harness);
    const accounts = () => stores().accounts;

    it('creates an account and finds it by name and by id', async () => {
      const before = Date.now();
      const alice = await accounts().createAccount('alice', 'user', 'hash-a', true);
      expect(alice).toEqual({
        id: expect.any(Number),
        name: 'alice',
        kind: 'user',
        passwordHash: 'hash-a',
        isAdmin: true,
        createdAt: expect.any(Number),
      });
      expect(alice.createdAt).toBeGreaterThanOrEqual(before);
      expect(await accounts().accountByName('alice')).toEqual(alice);
      expect(await accounts().accountById(alice.id)).toEqual(alice);
      expect(await accounts().accountByName('nobody')).toBeNull();
      expect(await accounts().accountById(alice.id + 1000)).toBeNull();
    });

    it('gives users and organisations one namespace: a taken name is refused with NameTakenError', async () => {
      await accounts().createAccount('acme', 'org', null, false);
      await expect(accounts().createAccount('acme', 'user', 'hash', false)).rejects.toThrow(NameTakenError);
      await expect(accounts().createAccount('acme', 'org', null, false)).rejects.toThrow(NameTakenError);
      expect(await accounts().listAccounts('user')).toEqual([]);
    });

    it('lists one kind, by name', async () => {
      await accounts().createAccount('carol', 'user', null, false);
      await accounts().createAccount('acme', 'org', null, false);
      await accounts().createAccount('alice', 'user', null, false);
      expect((await accounts().listAccounts('user')).map((a) => a.name)).toEqual(['alice', 'carol']);
      expect((await accounts().listAccounts('org')).map((a) => a.name)).toEqual(['acme']);
    });

    it('sets passwords and admin rights of users only', async () => {
      const alice = await accounts().createAccount('alice', 'user', 'old', false);
      const acme = await accounts().createAccount('acme', 'org', null, false);
      await accounts().setPassword(alice.id, 'new');
      await accounts().setAdmin(alice.id, true);
      await accounts().setPassword(acme.id, 'org-password');
      await accounts().setAdmin(acme.id, true);
      expect(await accounts().accountById(alice.id)).toMatchObject({ passwordHash: 'new', isAdmin: true });
      expect(await accounts().accountById(acme.id)).toMatchObject({ passwordHash: null, isAdmin: false });
      await accounts().setAdmin(alice.id, false);
      expect((await accounts().accountById(alice.id))?.isAdmin).toBe(false);
    });

    it('sets, changes and removes organisation members, listed by name both ways', async () => {
      const acme = await accounts().createAccount('acme', 'org', null, false);
      const beta = await accounts().createAccount('beta', 'org', null, false);
      const bob = await accounts().createAccount('bob', 'user', null, false);
      const alice = await accounts().createAccount('alice', 'user', null, false);
      await accounts().setOrgMember(acme.id, bob.id, 'member');
      await accounts().setOrgMember(acme.id, alice.id, 'owner');
      await accounts().setOrgMember(beta.id, bob.id, 'owner');
      await accounts().setOrgMember(acme.id, bob.id, 'owner');
      expect(await accounts().orgRole(acme.id, bob.id)).toBe('owner');
      expect(await accounts().orgMembers(acme.id)).toEqual([
        { userId: alice.id, name: 'alice', role: 'owner' },
        { userId: bob.id, name: 'bob', role: 'owner' },
      ]);
      expect(await accounts().orgsOf(bob.id)).toEqual([
        { orgId: acme.id, name: 'acme', role: 'owner' },
        { orgId: beta.id, name: 'beta', role: 'owner' },
      ]);
      await accounts().setOrgMember(acme.id, bob.id, null);
      expect(await accounts().orgRole(acme.id, bob.id)).toBeNull();
      expect((await accounts().orgsOf(bob.id)).map((o) => o.name)).toEqual(['beta']);
    });

    it('deletes an account with its memberships, once', async () => {
      const acme = await accounts().createAccount('acme', 'org', null, false);
      const bob = await accounts().createAccount('bob', 'user', null, false);
      await accounts().setOrgMember(acme.id, bob.id, 'member');
      expect(await accounts().deleteAccount(bob.id)).toBe(true);
      expect(await accounts().deleteAccount(bob.id)).toBe(false);
      expect(await accounts().accountByName('bob')).toBeNull();
      expect(await accounts().orgMembers(acme.id)).toEqual([]);
      // The name is free again.
      await expect(accounts().createAccount('bob', 'user', null, false)).resolves.toMatchObject({ name: 'bob' });
    });

    it('keeps millisecond timestamps of today exactly', async () => {
      const alice = await accounts().createAccount('alice', 'user', null, false);
      expect(Number.isSafeInteger(alice.createdAt)).toBe(true);
      expect((await accounts().accountById(alice.id))?.createdAt).toBe(alice.createdAt);
    });
  });
}
