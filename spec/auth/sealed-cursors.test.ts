import { generateKeyPairSync } from 'node:crypto';
import { SealedCatalogCursors } from '../../src/auth/sealed-cursors';
import type { SigningKey } from '../../src/auth/signing-keys';

function signingKey(kid: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), publicKey };
}

describe('SealedCatalogCursors', () => {
  const current = signingKey('k1');
  const cursors = new SealedCatalogCursors({ signingKey: async () => current });

  it('seals a name unreadably, and opens it again (on another instance sharing the key)', async () => {
    const sealed = await cursors.seal('acme/secret-project');
    expect(sealed.startsWith('~')).toBe(true);
    expect(sealed).not.toContain('secret');
    expect(Buffer.from(sealed.slice(1), 'base64url').toString('latin1')).not.toContain('secret');
    expect(await new SealedCatalogCursors({ signingKey: async () => current }).open(sealed)).toBe('acme/secret-project');
    // Two seals of one name differ (a fresh IV each): links do not tell equal positions apart.
    expect(await cursors.seal('acme/secret-project')).not.toBe(sealed);
  });

  it('refuses a tampered seal, one under another key, and garbage', async () => {
    const sealed = await cursors.seal('acme/secret-project');
    const raw = Buffer.from(sealed.slice(1), 'base64url');
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
    expect(await cursors.open(`~${raw.toString('base64url')}`)).toBeNull();
    expect(await new SealedCatalogCursors({ signingKey: async () => signingKey('k2') }).open(sealed)).toBeNull();
    for (const junk of ['~', '~AAAA', 'acme/plain', `~${'A'.repeat(200)}`]) expect(await cursors.open(junk)).toBeNull();
  });
});
