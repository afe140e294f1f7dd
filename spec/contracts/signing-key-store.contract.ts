import type { SigningKeyRecord } from '../../src/auth/stores/signing-key-store';
import { useIdentityStores, type IdentityStoresHarness } from './identity-store-harness';

/** The SigningKeyStore contract: every implementation runs exactly this suite. */
export function signingKeyStoreContract(name: string, harness: IdentityStoresHarness): void {
  describe(`SigningKeyStore contract: ${name}`, () => {
    const stores = useIdentityStores(harness);
    const keys = () => stores().signingKeys;
    const key = (kid: string, createdAt: number): SigningKeyRecord => ({
      kid,
      algorithm: 'ES256',
      privatePem: `private ${kid}\n`,
      publicPem: `public ${kid}\n`,
      createdAt,
      retiredAt: null,
    });

    it('holds no key at first, then every key added, oldest first', async () => {
      expect(await keys().signingKeys()).toEqual([]);
      const newer = key('k2', 1_765_000_000_200);
      const older = key('k1', 1_765_000_000_100);
      await keys().addSigningKey(newer);
      await keys().addSigningKey(older);
      expect(await keys().signingKeys()).toEqual([older, newer]);
    });

    it('retires a key once, keeping the first retirement time', async () => {
      await keys().addSigningKey(key('k1', 1_000));
      await keys().addSigningKey(key('k2', 2_000));
      await keys().retireSigningKey('k1', 5_000);
      await keys().retireSigningKey('k1', 6_000);
      await keys().retireSigningKey('unknown', 6_000);
      expect((await keys().signingKeys()).map((k) => [k.kid, k.retiredAt])).toEqual([
        ['k1', 5_000],
        ['k2', null],
      ]);
    });
  });
}
