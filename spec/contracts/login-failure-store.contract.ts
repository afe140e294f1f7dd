import type { LoginFailureStore } from '../../src/auth/login-throttle';

export interface LoginFailureStoreHarness {
  /** A fresh, empty store. */
  create(): Promise<LoginFailureStore>;
  destroy(store: LoginFailureStore): Promise<void>;
}

/** The LoginFailureStore contract: every implementation (memory, SQL on SQLite and PostgreSQL) runs exactly this suite. */
export function loginFailureStoreContract(name: string, harness: LoginFailureStoreHarness): void {
  describe(`LoginFailureStore contract: ${name}`, () => {
    const WINDOW = 60_000;
    let store: LoginFailureStore;
    beforeEach(async () => {
      store = await harness.create();
    });
    afterEach(() => harness.destroy(store));

    it('knows no window for a key that never failed', async () => {
      expect(await store.get('user:nobody')).toBeNull();
    });

    it('counts failures inside one window, from the first failure', async () => {
      await store.recordFailure('user:alice', 1_000, WINDOW);
      await store.recordFailure('user:alice', 2_000, WINDOW);
      await store.recordFailure('user:alice', 3_000, WINDOW);
      expect(await store.get('user:alice')).toEqual({ failures: 3, startedAt: 1_000 });
    });

    it('opens a new window once the last one has passed', async () => {
      await store.recordFailure('user:alice', 1_000, WINDOW);
      await store.recordFailure('user:alice', 2_000, WINDOW);
      await store.recordFailure('user:alice', 1_000 + WINDOW, WINDOW);
      expect(await store.get('user:alice')).toEqual({ failures: 1, startedAt: 1_000 + WINDOW });
    });

    it('keeps keys apart and clears only the ones named', async () => {
      await store.recordFailure('user:alice', 1_000, WINDOW);
      await store.recordFailure('addr:10.0.0.1', 1_000, WINDOW);
      await store.recordFailure('user:bob', 1_000, WINDOW);
      await store.clear(['user:alice', 'addr:10.0.0.1', 'user:never-failed']);
      expect(await store.get('user:alice')).toBeNull();
      expect(await store.get('addr:10.0.0.1')).toBeNull();
      expect(await store.get('user:bob')).toEqual({ failures: 1, startedAt: 1_000 });
    });

    it('keeps millisecond timestamps of today exactly', async () => {
      const now = 1_765_000_000_123;
      await store.recordFailure('user:alice', now, WINDOW);
      expect(await store.get('user:alice')).toEqual({ failures: 1, startedAt: now });
    });
  });
}
