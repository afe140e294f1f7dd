import type { QuotaLimitStore } from '../../src/quotas/quota-limits';

export interface QuotaLimitStoreHarness {
  create(): Promise<QuotaLimitStore>;
  destroy(store: QuotaLimitStore): Promise<void>;
}

/** The QuotaLimitStore contract: every implementation runs exactly this suite. */
export function quotaLimitStoreContract(kind: string, harness: QuotaLimitStoreHarness): void {
  describe(`QuotaLimitStore contract: ${kind}`, () => {
    let store: QuotaLimitStore;
    beforeEach(async () => {
      store = await harness.create();
    });
    afterEach(() => harness.destroy(store));

    it('stores, replaces and forgets an owner limits', async () => {
      expect(await store.get('acme')).toBeNull();
      const big = 5 * 1024 ** 4; // past 32 bits: a BIGINT on PostgreSQL, read back as a number
      expect(await store.set('acme', { maxBytes: big, maxVersionsPerPackage: 10 }, 1000)).toEqual({
        owner: 'acme',
        maxBytes: big,
        maxVersionsPerPackage: 10,
        updatedAt: 1000,
      });
      await store.set('acme', { maxBytes: null, maxVersionsPerPackage: 3 }, 2000);
      expect(await store.get('acme')).toEqual({ owner: 'acme', maxBytes: null, maxVersionsPerPackage: 3, updatedAt: 2000 });
      expect(await store.get('acm')).toBeNull();
      expect(await store.remove('acme')).toBe(true);
      expect(await store.remove('acme')).toBe(false);
      expect(await store.get('acme')).toBeNull();
    });

    it('keeps owners apart', async () => {
      await store.set('acme', { maxBytes: 1, maxVersionsPerPackage: null }, 1);
      await store.set('beta', { maxBytes: 2, maxVersionsPerPackage: null }, 1);
      expect((await store.get('acme'))?.maxBytes).toBe(1);
      expect((await store.get('beta'))?.maxBytes).toBe(2);
    });
  });
}
