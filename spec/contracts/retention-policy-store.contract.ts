import type { RetentionPolicyStore, RetentionRules } from '../../src/retention/retention-policy';

export interface RetentionPolicyStoreHarness {
  /** A fresh, empty store. */
  create(): Promise<RetentionPolicyStore>;
  destroy(store: RetentionPolicyStore): Promise<void>;
}

const RULES: RetentionRules = {
  keepTagged: [{ pattern: 'v*', count: 10 }],
  deleteUntaggedAfterDays: 30,
  keepHighestSemver: true,
  keepPulledWithinDays: 14,
  excludeTags: ['latest'],
  detachReferrers: false,
};

/** The RetentionPolicyStore contract: every implementation (SQL on SQLite and PostgreSQL) runs exactly this suite. */
export function retentionPolicyStoreContract(name: string, harness: RetentionPolicyStoreHarness): void {
  describe(`RetentionPolicyStore contract: ${name}`, () => {
    let store: RetentionPolicyStore;
    beforeEach(async () => {
      store = await harness.create();
    });
    afterEach(() => harness.destroy(store));

    it('stores a policy per target and gives it back whole', async () => {
      expect(await store.get({ scope: 'owner', name: 'acme' })).toBeNull();
      const put = await store.put({ scope: 'owner', name: 'acme' }, RULES, 1_700_000_000_000);
      expect(put).toEqual({ scope: 'owner', name: 'acme', rules: RULES, updatedAt: 1_700_000_000_000 });
      expect(await store.get({ scope: 'owner', name: 'acme' })).toEqual(put);
      // The same name as a package is another target.
      expect(await store.get({ scope: 'package', name: 'acme' })).toBeNull();
    });

    it('replaces a policy on a second put', async () => {
      await store.put({ scope: 'package', name: 'acme/app' }, RULES, 1);
      const replaced = { ...RULES, keepTagged: [], excludeTags: [] };
      await store.put({ scope: 'package', name: 'acme/app' }, replaced, 2);
      expect(await store.get({ scope: 'package', name: 'acme/app' })).toEqual({
        scope: 'package',
        name: 'acme/app',
        rules: replaced,
        updatedAt: 2,
      });
      expect(await store.all()).toHaveLength(1);
    });

    it("lists an owner's policy with its packages' and no one else's", async () => {
      await store.put({ scope: 'owner', name: 'acme' }, RULES, 1);
      await store.put({ scope: 'package', name: 'acme/app' }, RULES, 1);
      await store.put({ scope: 'package', name: 'acme/team/tool' }, RULES, 1);
      await store.put({ scope: 'package', name: 'acme-corp/app' }, RULES, 1);
      await store.put({ scope: 'owner', name: 'acme-corp' }, RULES, 1);
      await store.put({ scope: 'package', name: 'acmes/app' }, RULES, 1);
      const listed = (await store.forOwner('acme')).map((p) => `${p.scope}:${p.name}`);
      expect(listed).toEqual(['owner:acme', 'package:acme/app', 'package:acme/team/tool']);
      expect(await store.all()).toHaveLength(6);
    });

    it('removes a policy, and says whether there was one', async () => {
      await store.put({ scope: 'owner', name: 'acme' }, RULES, 1);
      expect(await store.remove({ scope: 'owner', name: 'acme' })).toBe(true);
      expect(await store.remove({ scope: 'owner', name: 'acme' })).toBe(false);
      expect(await store.get({ scope: 'owner', name: 'acme' })).toBeNull();
    });
  });
}
