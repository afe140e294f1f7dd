import type { PackageRecord } from '../../src/auth/stores/package-store';
import { useIdentityStores, type IdentityStoresHarness } from './identity-store-harness';

/** The PackageStore contract (packages and their links): every implementation runs exactly this suite. */
export function packageStoreContract(name: string, harness: IdentityStoresHarness): void {
  describe(`PackageStore contract: ${name}`, () => {
    const stores = useIdentityStores(harness);
    const packages = () => stores().packages;
    const user = (n: string) => stores().accounts.createAccount(n, 'user', null, false);
    const record = (over: Partial<PackageRecord> & Pick<PackageRecord, 'name' | 'ownerId'>): PackageRecord => ({
      sourceRepositoryId: null,
      visibility: 'private',
      createdAt: 1_765_000_000_123,
      ...over,
    });

    it('creates a package once: a second ensure returns what the first stored', async () => {
      const alice = await user('alice');
      const first = record({ name: 'alice/app', ownerId: alice.id, visibility: 'public' });
      expect(await packages().ensurePackage(first)).toEqual(first);
      expect(await packages().ensurePackage({ ...first, visibility: 'private', createdAt: 5 })).toEqual(first);
      expect(await packages().package('alice/app')).toEqual(first);
      expect(await packages().package('alice/none')).toBeNull();
    });

    it('agrees on one record when many first pushes race', async () => {
      const alice = await user('alice');
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          packages().ensurePackage(record({ name: 'alice/app', ownerId: alice.id, createdAt: 1_000 + i })),
        ),
      );
      expect(new Set(results.map((r) => r.createdAt)).size).toBe(1);
    });

    it('links, unlinks and sets visibility', async () => {
      const alice = await user('alice');
      const repo = await stores().repositories.createRepository(alice.id, 'app', 'private');
      await packages().ensurePackage(record({ name: 'alice/app', ownerId: alice.id }));
      await packages().linkPackage('alice/app', repo.id);
      await packages().setPackageVisibility('alice/app', 'public');
      expect(await packages().package('alice/app')).toMatchObject({ sourceRepositoryId: repo.id, visibility: 'public' });
      await packages().linkPackage('alice/app', null);
      expect((await packages().package('alice/app'))?.sourceRepositoryId).toBeNull();
    });

    it('journals links, unlinks, visibility changes, deletes and restores until acknowledged', async () => {
      const alice = await user('alice');
      const repo = await stores().repositories.createRepository(alice.id, 'app', 'private');
      await packages().ensurePackage(record({ name: 'alice/app', ownerId: alice.id }));
      await packages().linkPackage('alice/app', repo.id);
      await packages().setPackageVisibility('alice/app', 'public');
      await packages().linkPackage('alice/app', null);
      await packages().setPackageDeletedAt('alice/app', 5_000);
      await packages().setPackageDeletedAt('alice/app', null);
      // A change to no package journals nothing.
      await packages().setPackageVisibility('alice/none', 'public');
      const changes = await packages().changes(100);
      expect(changes.map((c) => [c.kind, c.name, c.visibility, c.repositoryId])).toEqual([
        ['linked', 'alice/app', null, repo.id],
        ['visibility', 'alice/app', 'public', null],
        ['unlinked', 'alice/app', null, null],
        ['deleted', 'alice/app', null, null],
        ['restored', 'alice/app', null, null],
      ]);
      await packages().acknowledgeChanges(changes.slice(0, 4).map((c) => c.id));
      expect((await packages().changes(100)).map((c) => c.kind)).toEqual(['restored']);
    });

    it('journals a promotion with its digest and target; the other entries carry none', async () => {
      const alice = await user('alice');
      await packages().ensurePackage(record({ name: 'alice/app', ownerId: alice.id }));
      await packages().setPackageVisibility('alice/app', 'public');
      await packages().journalPromotion('alice/app', 'sha256:abc', 'https://registry.example/alice/app:1.0');
      const changes = await packages().changes(100);
      expect(changes.map((c) => [c.kind, c.name, c.promotion])).toEqual([
        ['visibility', 'alice/app', null],
        ['promoted', 'alice/app', { digest: 'sha256:abc', target: 'https://registry.example/alice/app:1.0' }],
      ]);
    });

    it('lists by repository, by owner, or all, each by name', async () => {
      const alice = await user('alice');
      const bob = await user('bob');
      const repo = await stores().repositories.createRepository(alice.id, 'app', 'private');
      for (const [n, owner, link] of [
        ['alice/web', alice.id, repo.id],
        ['alice/api', alice.id, repo.id],
        ['alice/loose', alice.id, null],
        ['bob/tool', bob.id, null],
      ] as const)
        await packages().ensurePackage(record({ name: n, ownerId: owner, sourceRepositoryId: link }));
      const names = (list: PackageRecord[]) => list.map((p) => p.name);
      expect(names(await packages().listPackages({ repositoryId: repo.id }))).toEqual(['alice/api', 'alice/web']);
      expect(names(await packages().listPackages({ ownerId: alice.id }))).toEqual(['alice/api', 'alice/loose', 'alice/web']);
      expect(names(await packages().listPackages({}))).toEqual(['alice/api', 'alice/loose', 'alice/web', 'bob/tool']);
    });

    it('is unlinked when its repository is deleted, and goes with its owner', async () => {
      const alice = await user('alice');
      const repo = await stores().repositories.createRepository(alice.id, 'app', 'private');
      await packages().ensurePackage(record({ name: 'alice/app', ownerId: alice.id, sourceRepositoryId: repo.id }));
      await stores().repositories.deleteRepository(repo.id);
      expect((await packages().package('alice/app'))?.sourceRepositoryId).toBeNull();
      await stores().accounts.deleteAccount(alice.id);
      expect(await packages().package('alice/app')).toBeNull();
    });
    it('gives each package a stable integer id and keeps it through a soft delete and restore', async () => {
      const alice = await user('alice');
      await packages().ensurePackage(record({ name: 'alice/app', ownerId: alice.id }));
      await packages().ensurePackage(record({ name: 'alice/other', ownerId: alice.id }));
      const app = await packages().packageState('alice/app');
      const other = await packages().packageState('alice/other');
      expect(app).toEqual({ id: expect.any(Number), deletedAt: null });
      expect(Number.isInteger(app?.id)).toBe(true);
      expect(other?.id).not.toBe(app?.id);
      await packages().ensurePackage(record({ name: 'alice/app', ownerId: alice.id }));
      await packages().setPackageDeletedAt('alice/app', 1234);
      expect(await packages().packageState('alice/app')).toEqual({ id: app?.id, deletedAt: 1234 });
      await packages().setPackageDeletedAt('alice/app', null);
      expect(await packages().packageState('alice/app')).toEqual({ id: app?.id, deletedAt: null });
      expect(await packages().packageState('alice/none')).toBeNull();
    });
  });
}
