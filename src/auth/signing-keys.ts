import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { SigningKeyRecord, SigningKeyStore } from './stores/signing-key-store';

export const JWT_ALGORITHM = 'ES256';

export interface SigningKey {
  kid: string;
  privatePem: string;
  publicKey: KeyObject;
}

/**
 * The registry's JWT signing keys (ES256, P-256), generated on first start
 * and kept in the identity store so every replica signs and verifies alike.
 * The newest key signs; older unretired keys still verify, which is what
 * makes rotation seamless: rotate, wait out the token lifetime, retire.
 */
export class SigningKeys {
  private signing: SigningKey | null = null;
  private readonly verifying = new Map<string, KeyObject>();
  private loadedAt = 0;

  constructor(
    private readonly keyStore: SigningKeyStore,
    /** How often to re-read keys, so a rotation on one replica reaches the others. */
    private readonly reloadMs = 60_000,
  ) {}

  async init(): Promise<void> {
    const active = (await this.keyStore.signingKeys()).filter((k) => k.retiredAt === null);
    if (active.length === 0) await this.keyStore.addSigningKey(generateKey());
    await this.reload();
  }

  async signingKey(): Promise<SigningKey> {
    await this.reloadIfStale();
    if (!this.signing) throw new Error('no active signing key');
    return this.signing;
  }

  /** The public key for a `kid`, or null: unknown and retired keys verify nothing. */
  async publicKey(kid: string): Promise<KeyObject | null> {
    await this.reloadIfStale();
    let key = this.verifying.get(kid) ?? null;
    if (!key) {
      // A key minted a moment ago on another replica: look once more before refusing.
      await this.reload();
      key = this.verifying.get(kid) ?? null;
    }
    return key;
  }

  /** Adds a new signing key; tokens signed by the old ones stay valid until those are retired. */
  async rotate(): Promise<string> {
    const key = generateKey();
    await this.keyStore.addSigningKey(key);
    await this.reload();
    return key.kid;
  }

  async retire(kid: string): Promise<void> {
    await this.keyStore.retireSigningKey(kid, Date.now());
    await this.reload();
  }

  /** The verifying keys as a JSON Web Key Set, for anyone who wants to check Berth's tokens. */
  async jwks(): Promise<{ keys: Array<Record<string, unknown>> }> {
    await this.reloadIfStale();
    return {
      keys: [...this.verifying.entries()].map(([kid, key]) => ({ ...key.export({ format: 'jwk' }), kid, alg: JWT_ALGORITHM, use: 'sig' })),
    };
  }

  private async reloadIfStale(): Promise<void> {
    if (Date.now() - this.loadedAt > this.reloadMs) await this.reload();
  }

  private async reload(): Promise<void> {
    const active = (await this.keyStore.signingKeys()).filter((k) => k.retiredAt === null);
    this.verifying.clear();
    for (const k of active) this.verifying.set(k.kid, createPublicKey(k.publicPem));
    const newest = active[active.length - 1];
    this.signing = newest ? { kid: newest.kid, privatePem: newest.privatePem, publicKey: createPublicKey(newest.publicPem) } : null;
    this.loadedAt = Date.now();
  }
}

function generateKey(): SigningKeyRecord {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return {
    // Hex, not base64url: a kid must survive being typed as a CLI argument (no leading '-').
    kid: createHash('sha256').update(der).digest('hex').slice(0, 32),
    algorithm: JWT_ALGORITHM,
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    createdAt: Date.now(),
    retiredAt: null,
  };
}
