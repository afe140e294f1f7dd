import type { LoginFailureStore } from '../../src/auth/login-throttle';

export interface LoginFailureStoreHarness {
  /** A fresh, empty store. */
  create(): LoginFailureStore;
  destroy(store: LoginFailureStore): void;
}

/** The LoginFailureStore contract: every implementation (memory, sqlite) runs exactly this suite. */
export function loginFailureStoreContract(name: string, harness: LoginFailureStoreHarness): void {
  describe(`LoginFailureStore contract: ${name}`, () => {
    const WINDOW = 60_000;
    let store: LoginFailureStore;
    beforeEach(() => {
      store = harness.create();
    });
    afterEach(() => harness.destroy(store));

    it('knows no window for a key that never failed', () => {
      expect(store.get('user:nobody')).toBeNull();
    });

    it('counts failures inside one window, from the first failure', () => {
      store.recordFailure('user:alice', 1_000, WINDOW);
      store.recordFailure('user:alice', 2_000, WINDOW);
      store.recordFailure('user:alice', 3_000, WINDOW);
      expect(store.get('user:alice')).toEqual({ failures: 3, startedAt: 1_000 });
    });

    it('opens a new window once the last one has passed', () => {
      store.recordFailure('user:alice', 1_000, WINDOW);
      store.recordFailure('user:alice', 2_000, WINDOW);
      store.recordFailure('user:alice', 1_000 + WINDOW, WINDOW);
      expect(store.get('user:alice')).toEqual({ failures: 1, startedAt: 1_000 + WINDOW });
    });

    it('keeps keys apart and clears only the ones named', () => {
      store.recordFailure('user:alice', 1_000, WINDOW);
      store.recordFailure('addr:10.0.0.1', 1_000, WINDOW);
      store.recordFailure('user:bob', 1_000, WINDOW);
      store.clear(['user:alice', 'addr:10.0.0.1', 'user:never-failed']);
      expect(store.get('user:alice')).toBeNull();
      expect(store.get('addr:10.0.0.1')).toBeNull();
      expect(store.get('user:bob')).toEqual({ failures: 1, startedAt: 1_000 });
    });
  });
}
