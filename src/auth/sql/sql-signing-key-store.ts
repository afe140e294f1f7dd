import type { Database } from '../../persistence/database';
import type { SigningKeyRecord, SigningKeyStore } from '../stores/signing-key-store';

interface KeyRow {
  kid: string;
  algorithm: string;
  private_pem: string;
  public_pem: string;
  created_at: number;
  retired_at: number | null;
}

/** Signing keys on SQLite or PostgreSQL; table from SIGNING_KEY_MIGRATIONS. */
export class SqlSigningKeyStore implements SigningKeyStore {
  constructor(private readonly db: Database) {}

  async signingKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.db.all<KeyRow>(
      'SELECT kid, algorithm, private_pem, public_pem, created_at, retired_at FROM signing_keys ORDER BY created_at, kid',
    );
    return rows.map((r) => ({
      kid: r.kid,
      algorithm: r.algorithm,
      privatePem: r.private_pem,
      publicPem: r.public_pem,
      createdAt: r.created_at,
      retiredAt: r.retired_at,
    }));
  }

  async addSigningKey(k: SigningKeyRecord): Promise<void> {
    await this.db.run(
      'INSERT INTO signing_keys (kid, algorithm, private_pem, public_pem, created_at, retired_at) VALUES (?, ?, ?, ?, ?, ?)',
      [k.kid, k.algorithm, k.privatePem, k.publicPem, k.createdAt, k.retiredAt],
    );
  }

  async retireSigningKey(kid: string, at: number): Promise<void> {
    await this.db.run('UPDATE signing_keys SET retired_at = ? WHERE kid = ? AND retired_at IS NULL', [at, kid]);
  }
}
