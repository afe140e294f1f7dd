import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { SEALED_CURSOR_PREFIX, type CursorSeal } from '../registry/listing-service';
import type { SigningKeys } from './signing-keys';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_BYTES = 8;

interface CursorKey {
  id: Buffer;
  key: Buffer;
}

/**
 * Catalog positions sealed with AES-256-GCM under a key derived from the
 * current JWT signing key, which every worker and replica shares through the
 * identity store: a position one replica sealed opens on any other, and the
 * name inside stays unreadable and unforgeable to the client carrying it. A
 * position sealed before a key rotation no longer opens (the client lists
 * again from the start).
 */
export class SealedCatalogCursors implements CursorSeal {
  private cached: { kid: string; key: CursorKey } | null = null;

  constructor(private readonly keys: Pick<SigningKeys, 'signingKey'>) {}

  async seal(position: string): Promise<string> {
    const { id, key } = await this.currentKey();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(id);
    const sealed = Buffer.concat([cipher.update(position, 'utf8'), cipher.final()]);
    return SEALED_CURSOR_PREFIX + Buffer.concat([id, iv, cipher.getAuthTag(), sealed]).toString('base64url');
  }

  async open(sealed: string): Promise<string | null> {
    if (!sealed.startsWith(SEALED_CURSOR_PREFIX)) return null;
    const raw = Buffer.from(sealed.slice(SEALED_CURSOR_PREFIX.length), 'base64url');
    if (raw.length < KEY_ID_BYTES + IV_BYTES + TAG_BYTES) return null;
    const { id, key } = await this.currentKey();
    const at = (start: number, length: number) => raw.subarray(start, start + length);
    if (!timingSafeEqual(at(0, KEY_ID_BYTES), id)) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, at(KEY_ID_BYTES, IV_BYTES)).setAAD(id);
      decipher.setAuthTag(at(KEY_ID_BYTES + IV_BYTES, TAG_BYTES));
      const body = raw.subarray(KEY_ID_BYTES + IV_BYTES + TAG_BYTES);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      return null; // the tag does not verify: not sealed by us
    }
  }

  private async currentKey(): Promise<CursorKey> {
    const signing = await this.keys.signingKey();
    if (this.cached?.kid !== signing.kid) {
      const key = Buffer.from(hkdfSync('sha256', signing.privatePem, '', 'berth catalog cursor', 32));
      const id = createHash('sha256').update(signing.kid).digest().subarray(0, KEY_ID_BYTES);
      this.cached = { kid: signing.kid, key: { id, key } };
    }
    return this.cached.key;
  }
}
