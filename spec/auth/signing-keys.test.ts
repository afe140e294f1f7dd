import { SigningKeys } from '../../src/auth/signing-keys';
import { openIdentityStores, type OpenedIdentityStores } from './support/identity-stores';

describe('SigningKeys', () => {
  let opened: OpenedIdentityStores;
  let keys: SigningKeys;
  beforeAll(async () => {
    opened = await openIdentityStores();
    keys = new SigningKeys(opened.identities.signingKeys);
  });
  afterAll(() => opened.close());

  it('names keys with hex kids, safe to pass as command-line arguments', async () => {
    await keys.init();
    const kids = [(await keys.signingKey()).kid];
    for (let i = 0; i < 20; i++) kids.push(await keys.rotate());
    for (const kid of kids) expect(kid).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(kids).size).toBe(kids.length);
  });

  it('signs with the newest key and verifies with every unretired one', async () => {
    const older = (await keys.signingKey()).kid;
    const newer = await keys.rotate();
    expect((await keys.signingKey()).kid).toBe(newer);
    expect(await keys.publicKey(older)).not.toBeNull();
    await keys.retire(older);
    expect(await keys.publicKey(older)).toBeNull();
    expect((await keys.jwks()).keys.map((k) => k.kid)).toContain(newer);
  });
});
