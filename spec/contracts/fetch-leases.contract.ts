import type { FetchLeases } from '../../src/proxy/fetch-leases';

export interface FetchLeasesHarness {
  /** A fresh store without leases. */
  create(): Promise<FetchLeases>;
  destroy(store: FetchLeases): Promise<void>;
}

/** The FetchLeases contract (the pull-through cache's single flight across processes): SQL on SQLite and PostgreSQL. */
export function fetchLeasesContract(name: string, harness: FetchLeasesHarness): void {
  describe(`FetchLeases contract: ${name}`, () => {
    const TTL = 30_000;
    const D = `sha256:${'a'.repeat(64)}`;
    let leases: FetchLeases;
    beforeEach(async () => {
      leases = await harness.create();
    });
    afterEach(() => harness.destroy(leases));

    it('gives a free lease to one taker; the others wait until it is released', async () => {
      expect(await leases.held('hub/x', D, 1_000)).toBe(false);
      expect(await leases.acquire('hub/x', D, 'p1', 1_000, TTL)).toBe(true);
      expect(await leases.acquire('hub/x', D, 'p2', 2_000, TTL)).toBe(false);
      expect(await leases.acquire('hub/x', D, 'p1', 2_000, TTL)).toBe(false);
      expect(await leases.held('hub/x', D, 2_000)).toBe(true);
      await leases.release('hub/x', D, 'p1');
      expect(await leases.held('hub/x', D, 2_000)).toBe(false);
      expect(await leases.acquire('hub/x', D, 'p2', 2_000, TTL)).toBe(true);
    });

    it('keys a lease by repository and digest', async () => {
      expect(await leases.acquire('hub/x', D, 'p1', 1_000, TTL)).toBe(true);
      expect(await leases.acquire('hub/y', D, 'p2', 1_000, TTL)).toBe(true);
      expect(await leases.acquire('hub/x', `sha256:${'b'.repeat(64)}`, 'p2', 1_000, TTL)).toBe(true);
    });

    it('an expired lease is free for another taker, and its old holder can neither renew nor release it', async () => {
      expect(await leases.acquire('hub/x', D, 'p1', 1_000, TTL)).toBe(true);
      expect(await leases.held('hub/x', D, 1_000 + TTL)).toBe(false);
      expect(await leases.acquire('hub/x', D, 'p2', 1_000 + TTL, TTL)).toBe(true);
      expect(await leases.renew('hub/x', D, 'p1', 1_000 + TTL, TTL)).toBe(false);
      await leases.release('hub/x', D, 'p1');
      expect(await leases.held('hub/x', D, 2_000 + TTL)).toBe(true);
    });

    it('renewing moves the expiry on', async () => {
      expect(await leases.acquire('hub/x', D, 'p1', 1_000, TTL)).toBe(true);
      expect(await leases.renew('hub/x', D, 'p1', 20_000, TTL)).toBe(true);
      expect(await leases.held('hub/x', D, 1_000 + TTL + 1)).toBe(true);
      expect(await leases.acquire('hub/x', D, 'p2', 1_000 + TTL + 1, TTL)).toBe(false);
    });

    it('of many takers at once, exactly one wins', async () => {
      const won = await Promise.all(Array.from({ length: 16 }, (_, i) => leases.acquire('hub/x', D, `p${i}`, 1_000, TTL)));
      expect(won.filter(Boolean)).toHaveLength(1);
    });
  });
}
