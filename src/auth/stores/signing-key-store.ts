export interface SigningKeyRecord {
  kid: string;
  algorithm: string;
  privatePem: string;
  publicPem: string;
  createdAt: number;
  retiredAt: number | null;
}

/** JWT signing keys: the newest unretired key signs; every unretired key verifies. */
export interface SigningKeyStore {
  /** Oldest first. */
  signingKeys(): Promise<SigningKeyRecord[]>;
  addSigningKey(key: SigningKeyRecord): Promise<void>;
  /** Keeps the first retirement time when retired twice. */
  retireSigningKey(kid: string, at: number): Promise<void>;
}
