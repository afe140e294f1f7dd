import type { IdentityStores } from '../../src/auth/stores/identity-stores';

/**
 * What every identity store contract runs on: fresh, empty identity stores on
 * one database. A contract exercises one store and uses the others only to
 * make what it refers to (the user a token belongs to, the repository a
 * package links to).
 */
export interface IdentityStoresHarness {
  create(): Promise<IdentityStores>;
  destroy(stores: IdentityStores): Promise<void>;
}

/** Fresh stores before each case, disposed after it; `current()` is the case's. */
export function useIdentityStores(harness: IdentityStoresHarness): () => IdentityStores {
  let stores: IdentityStores | undefined;
  beforeEach(async () => {
    stores = await harness.create();
  });
  afterEach(async () => {
    if (stores) await harness.destroy(stores);
    stores = undefined;
  });
  return () => {
    if (!stores) throw new Error('identity stores are made per case');
    return stores;
  };
}
