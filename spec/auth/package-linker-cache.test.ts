import { Readable } from 'node:stream';
import { Authorizer } from '../../src/auth/authorizer';
import { PackageLinker } from '../../src/auth/package-linker';
import type { Principal } from '../../src/auth/principal';
import type { IdentityStores } from '../../src/auth/stores/identity-stores';
import type { ManifestPushedEvent } from '../../src/events/registry-events';
import { createLogger } from '../../src/log';
import { openIdentityStores, type OpenedIdentityStores } from './support/identity-stores';

/**
 * The linker reads an image config for its source label once per config digest: configs are
 * content-addressed, and pushes of an unlinked package used to pay a blob read each.
 */
describe('package linker config label cache', () => {
  let openedStores: OpenedIdentityStores;
  let identities: IdentityStores;
  let linker: PackageLinker;
  beforeAll(async () => {
    openedStores = await openIdentityStores();
    identities = openedStores.identities;
    linker = new PackageLinker(identities, new Authorizer(identities), reader, createLogger('silent'), 'https://registry.example');
  });
  afterAll(() => openedStores.close());

  const configs = new Map<string, string>();
  const opened: string[] = [];
  const reader = {
    async open(digest: string): Promise<Readable> {
      opened.push(digest);
      const body = configs.get(digest);
      if (body === undefined) throw new Error(`no blob ${digest}`);
      return Readable.from([Buffer.from(body)]);
    },
  };

  const event = (repository: string, configDigest: string, principal: Principal): ManifestPushedEvent => ({
    repository,
    digest: `sha256:${'d'.repeat(64)}`,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    size: 100,
    artifactType: null,
    configDigest,
    configMediaType: 'application/vnd.oci.image.config.v1+json',
    subject: null,
    annotations: null,
    actor: { principal },
  });

  it('reads a config once however often it is pushed, and still links by its label', async () => {
    const alice = await identities.accounts.createAccount('alice', 'user', null, false);
    const principal: Principal = {
      kind: 'user',
      userId: alice.id,
      name: 'alice',
      isAdmin: false,
      credential: { type: 'password' },
      allowed: null,
    };
    const repo = await identities.repositories.createRepository(alice.id, 'app', 'private');
    for (const name of ['alice/one', 'alice/two', 'alice/linked']) {
      await identities.packages.ensurePackage({
        name,
        ownerId: alice.id,
        sourceRepositoryId: null,
        visibility: 'private',
        createdAt: Date.now(),
      });
    }
    const unlabelled = `sha256:${'1'.repeat(64)}`;
    const labelled = `sha256:${'2'.repeat(64)}`;
    configs.set(unlabelled, JSON.stringify({ config: { Labels: {} } }));
    configs.set(
      labelled,
      JSON.stringify({ config: { Labels: { 'org.opencontainers.image.source': 'https://registry.example/alice/app' } } }),
    );

    for (let i = 0; i < 5; i++) await linker.onManifestPushed(event(i % 2 ? 'alice/one' : 'alice/two', unlabelled, principal));
    expect(opened.filter((d) => d === unlabelled)).toHaveLength(1);
    expect((await identities.packages.package('alice/one'))?.sourceRepositoryId).toBeNull();

    await linker.onManifestPushed(event('alice/linked', labelled, principal));
    await linker.onManifestPushed(event('alice/one', labelled, principal));
    expect(opened.filter((d) => d === labelled)).toHaveLength(1);
    // The cached label links just as a freshly read one does.
    expect((await identities.packages.package('alice/linked'))?.sourceRepositoryId).toBe(repo.id);
    expect((await identities.packages.package('alice/one'))?.sourceRepositoryId).toBe(repo.id);
  });

  it('does not remember a config it could not read', async () => {
    const bob = await identities.accounts.createAccount('bob', 'user', null, false);
    const principal: Principal = {
      kind: 'user',
      userId: bob.id,
      name: 'bob',
      isAdmin: false,
      credential: { type: 'password' },
      allowed: null,
    };
    await identities.packages.ensurePackage({
      name: 'bob/app',
      ownerId: bob.id,
      sourceRepositoryId: null,
      visibility: 'private',
      createdAt: Date.now(),
    });
    const missing = `sha256:${'3'.repeat(64)}`;
    await expect(linker.onManifestPushed(event('bob/app', missing, principal))).rejects.toThrow('no blob');
    configs.set(missing, JSON.stringify({ config: { Labels: {} } }));
    await linker.onManifestPushed(event('bob/app', missing, principal));
    expect(opened.filter((d) => d === missing)).toHaveLength(2);
  });
});
