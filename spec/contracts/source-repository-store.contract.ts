import { NameTakenError } from '../../src/persistence/unique-violation';
import { useIdentityStores, type IdentityStoresHarness } from './identity-store-harness';

/** The SourceRepositoryStore contract (repositories and collaborators): every implementation runs exactly this suite. */
export function sourceRepositoryStoreContract(name: string, harness: IdentityStoresHarness): void {
  describe(`SourceRepositoryStore contract: ${name}`, () => {
    const stores = useIdentityStores(harness);
    const repos = () => stores().repositories;
    const user = (n: string) => stores().accounts.createAccount(n, 'user', null, false);

    it('creates a repository and finds it by owner name and name, and by id', async () => {
      const alice = await user('alice');
      const app = await repos().createRepository(alice.id, 'app', 'private');
      expect(app).toEqual({
        id: expect.any(Number),
        ownerId: alice.id,
        ownerName: 'alice',
        name: 'app',
        visibility: 'private',
        createdAt: expect.any(Number),
      });
      expect(await repos().repository('alice', 'app')).toEqual(app);
      expect(await repos().repositoryById(app.id)).toEqual(app);
      expect(await repos().repository('alice', 'other')).toBeNull();
      expect(await repos().repository('nobody', 'app')).toBeNull();
      expect(await repos().repositoryById(app.id + 1000)).toBeNull();
    });

    it('refuses a second repository of one name per owner with NameTakenError; other owners may use it', async () => {
      const alice = await user('alice');
      const bob = await user('bob');
      await repos().createRepository(alice.id, 'app', 'public');
      await expect(repos().createRepository(alice.id, 'app', 'private')).rejects.toThrow(NameTakenError);
      await expect(repos().createRepository(bob.id, 'app', 'private')).resolves.toMatchObject({ ownerName: 'bob', name: 'app' });
    });

    it("lists an owner's repositories by name and changes visibility", async () => {
      const alice = await user('alice');
      const bob = await user('bob');
      const web = await repos().createRepository(alice.id, 'web', 'public');
      await repos().createRepository(alice.id, 'api', 'public');
      await repos().createRepository(bob.id, 'tool', 'public');
      await repos().setRepositoryVisibility(web.id, 'private');
      expect((await repos().listRepositories(alice.id)).map((r) => [r.name, r.visibility])).toEqual([
        ['api', 'public'],
        ['web', 'private'],
      ]);
    });

    it('sets, changes and removes collaborators, listed by name', async () => {
      const alice = await user('alice');
      const carol = await user('carol');
      const bob = await user('bob');
      const app = await repos().createRepository(alice.id, 'app', 'private');
      await repos().setCollaborator(app.id, carol.id, 'read');
      await repos().setCollaborator(app.id, bob.id, 'write');
      await repos().setCollaborator(app.id, carol.id, 'admin');
      expect(await repos().collaboratorRole(app.id, carol.id)).toBe('admin');
      expect(await repos().collaborators(app.id)).toEqual([
        { userId: bob.id, name: 'bob', role: 'write' },
        { userId: carol.id, name: 'carol', role: 'admin' },
      ]);
      await repos().setCollaborator(app.id, bob.id, null);
      expect(await repos().collaboratorRole(app.id, bob.id)).toBeNull();
      expect((await repos().collaborators(app.id)).map((c) => c.name)).toEqual(['carol']);
    });

    it('lists the repositories a user collaborates on', async () => {
      const alice = await user('alice');
      const bob = await user('bob');
      const app = await repos().createRepository(alice.id, 'app', 'private');
      const lib = await repos().createRepository(alice.id, 'lib', 'public');
      await repos().createRepository(alice.id, 'own', 'private');
      expect(await repos().collaborations(bob.id)).toEqual([]);
      await repos().setCollaborator(lib.id, bob.id, 'read');
      await repos().setCollaborator(app.id, bob.id, 'admin');
      expect(await repos().collaborations(bob.id)).toEqual([app.id, lib.id].sort((a, b) => a - b));
      await repos().setCollaborator(app.id, bob.id, null);
      expect(await repos().collaborations(bob.id)).toEqual([lib.id]);
      expect(await repos().collaborations(alice.id)).toEqual([]);
    });

    it('deletes a repository with its collaborators, once', async () => {
      const alice = await user('alice');
      const bob = await user('bob');
      const app = await repos().createRepository(alice.id, 'app', 'private');
      await repos().setCollaborator(app.id, bob.id, 'read');
      expect(await repos().deleteRepository(app.id)).toBe(true);
      expect(await repos().deleteRepository(app.id)).toBe(false);
      expect(await repos().repositoryById(app.id)).toBeNull();
      expect(await repos().collaboratorRole(app.id, bob.id)).toBeNull();
    });

    it("goes with its owner; a deleted collaborator leaves the repository's list", async () => {
      const alice = await user('alice');
      const bob = await user('bob');
      const app = await repos().createRepository(alice.id, 'app', 'private');
      const tool = await repos().createRepository(bob.id, 'tool', 'private');
      await repos().setCollaborator(tool.id, alice.id, 'write');
      await stores().accounts.deleteAccount(alice.id);
      expect(await repos().repositoryById(app.id)).toBeNull();
      expect(await repos().collaborators(tool.id)).toEqual([]);
      expect(await repos().collaboratorRole(tool.id, alice.id)).toBeNull();
    });
  });
}
