import { Authorizer } from '../../src/auth/authorizer';
import { SYSTEM, type Actor } from '../../src/auth/management/actor';
import type { PackageAction, Principal } from '../../src/auth/principal';
import { IDENTITY_MIGRATIONS } from '../../src/auth/sql/identity-migrations';
import { sqlIdentityStores } from '../../src/auth/sql/sql-identity-stores';
import type { IdentityStores } from '../../src/auth/stores/identity-stores';
import type { Visibility } from '../../src/auth/stores/source-repository-store';
import { createLogger } from '../../src/log';
import { migrate } from '../../src/persistence/migration-runner';
import { IdentityPackageCatalog } from '../../src/search/identity-package-catalog';
import { IdentitySearchAccess } from '../../src/search/identity-search-access';
import { PackageDocuments } from '../../src/search/package-documents';
import { PackageIndexer } from '../../src/search/package-indexer';
import { SearchQueryInvalid } from '../../src/search/search-errors';
import { SearchService } from '../../src/search/search-service';
import { SEARCH_MIGRATIONS } from '../../src/search/sql/search-migrations';
import { SqlSearchIndex } from '../../src/search/sql/sql-search-index';
import { doc } from '../contracts/search-index.contract';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../persistence/support/test-databases';

/**
 * The search service over the real identity model: who finds what is
 * checked against Authorizer.decide itself (the rule the registry enforces),
 * for every principal kind and every kind of package; then ranking and
 * qualifiers through the service.
 */
const user = (id: number, name: string, extra: Partial<Principal & { kind: 'user' }> = {}): Principal => ({
  kind: 'user',
  userId: id,
  name,
  isAdmin: false,
  credential: { type: 'password' },
  allowed: null,
  ...extra,
});

for (const dialect of DIALECTS) {
  describe(`SearchService on ${dialect}`, () => {
    let t: TestDatabase;
    let identities: IdentityStores;
    let index: SqlSearchIndex;
    let service: SearchService;
    const principals: Record<string, Principal> = {};
    const packages: string[] = [];

    beforeAll(async () => {
      t = await createTestDatabase(dialect);
      await migrate(t.db, [...IDENTITY_MIGRATIONS, SEARCH_MIGRATIONS]);
      identities = sqlIdentityStores(t.db);
      const accounts = identities.accounts;
      const ids: Record<string, number> = {};
      for (const name of ['alice', 'bob', 'carol', 'dave', 'erin', 'root']) {
        ids[name] = (await accounts.createAccount(name, 'user', null, name === 'root')).id;
      }
      ids.acme = (await accounts.createAccount('acme', 'org', null, false)).id;
      await accounts.setOrgMember(ids.acme, ids.alice!, 'owner');
      await accounts.setOrgMember(ids.acme, ids.bob!, 'member');
      const repo = async (owner: string, name: string, visibility: Visibility) =>
        identities.repositories.createRepository(ids[owner]!, name, visibility);
      const site = await repo('acme', 'site', 'private');
      const docs = await repo('acme', 'docs', 'public');
      const lab = await repo('dave', 'lab', 'private');
      await identities.repositories.setCollaborator(site.id, ids.carol!, 'read');
      await identities.repositories.setCollaborator(lab.id, ids.erin!, 'write');
      const pkg = async (name: string, owner: string, visibility: Visibility, repositoryId: number | null = null) => {
        await identities.packages.ensurePackage({ name, ownerId: ids[owner]!, sourceRepositoryId: repositoryId, visibility, createdAt: 1 });
        packages.push(name);
      };
      // Every kind: unlinked public/private of a user and of an org; linked to private and public
      // repositories of an org and of a user, each with the opposite own visibility.
      await pkg('acme/api', 'acme', 'private');
      await pkg('acme/pub', 'acme', 'public');
      await pkg('acme/site-img', 'acme', 'public', site.id);
      await pkg('acme/docs-img', 'acme', 'private', docs.id);
      await pkg('alice/own', 'alice', 'private');
      await pkg('alice/open', 'alice', 'public');
      await pkg('dave/lab-img', 'dave', 'public', lab.id);
      await pkg('dave/gone', 'dave', 'public');
      await identities.packages.setPackageDeletedAt('dave/gone', 5);
      packages.pop();

      Object.assign(principals, {
        anonymous: { kind: 'anonymous' },
        alice: user(ids.alice!, 'alice'),
        bob: user(ids.bob!, 'bob'),
        carol: user(ids.carol!, 'carol'),
        dave: user(ids.dave!, 'dave'),
        erin: user(ids.erin!, 'erin'),
        root: user(ids.root!, 'root', { isAdmin: true }),
        bobRead: user(ids.bob!, 'bob', { credential: { type: 'pat', tokenId: 1 }, allowed: new Set<PackageAction>(['pull']) }),
        bobNoPull: user(ids.bob!, 'bob', { credential: { type: 'pat', tokenId: 2 }, allowed: new Set<PackageAction>() }),
        ciSite: { kind: 'ci', tokenId: 3, userId: ids.alice!, name: 'alice', repositoryId: site.id, repositoryOwnerId: ids.acme },
        ciLab: { kind: 'ci', tokenId: 4, userId: ids.dave!, name: 'dave', repositoryId: lab.id, repositoryOwnerId: ids.dave! },
      } satisfies Record<string, Principal>);

      index = new SqlSearchIndex(t.db);
      const documents = new PackageDocuments({
        versions: { listVersions: () => Promise.resolve({ versions: [], total: 0 }), getManifest: () => Promise.resolve(null) },
        openBlob: () => Promise.reject(new Error('no blobs here')),
        downloads: { daily: () => Promise.resolve([]) },
      });
      const indexer = new PackageIndexer(index, new IdentityPackageCatalog(identities), documents, createLogger('silent'));
      expect(await indexer.reconcile()).toEqual({ indexed: packages.length, removed: 0 });
      service = new SearchService(index, new IdentitySearchAccess(identities));
    });
    afterAll(() => t.dispose());

    it.each(['anonymous', 'alice', 'bob', 'carol', 'dave', 'erin', 'root', 'bobRead', 'bobNoPull', 'ciSite', 'ciLab'])(
      'finds for %s exactly the packages the Authorizer lets them pull',
      async (who) => {
        const principal = principals[who]!;
        const authorizer = new Authorizer(identities);
        const pullable: string[] = [];
        for (const name of packages) if ((await authorizer.decide(principal, name)).actions.has('pull')) pullable.push(name);
        const found = await service.search(principal, '', 1, 100);
        expect(found.hits.map((h) => h.name).sort()).toEqual(pullable.sort());
        expect(found.total).toBe(pullable.length);
        // The same set through a text query every package matches, and by exact name.
        expect(
          (await service.search(principal, 'is:public', 1, 100)).total + (await service.search(principal, 'is:private', 1, 100)).total,
        ).toBe(pullable.length);
        for (const name of packages) {
          const exact = await service.search(principal, name, 1, 100);
          expect(exact.hits.some((h) => h.name === name)).toBe(pullable.includes(name));
        }
      },
    );

    it('lets the CLI (SYSTEM) find everything that is not deleted', async () => {
      const everything: Actor = SYSTEM;
      expect((await service.search(everything, '', 1, 100)).hits.map((h) => h.name).sort()).toEqual([...packages].sort());
    });

    it('ranks through the service and applies qualifiers', async () => {
      await index.put(doc('acme/api-gateway', { owner: 'acme', ownerKind: 'org', downloads: 50, tags: ['v1'] }));
      await index.put(doc('acme/payments', { owner: 'acme', ownerKind: 'org', description: 'the api of payments', downloads: 99 }));
      await index.put(doc('acme/web-api', { owner: 'acme', ownerKind: 'org', downloads: 70 }));
      await index.put(doc('acme/apiary', { owner: 'acme', ownerKind: 'org', downloads: 60, updatedAt: 9 }));
      const names = async (q: string) => (await service.search(SYSTEM, q, 1, 100)).hits.map((h) => h.name);
      // Exact (acme/api), prefixes by downloads (gateway 50 < apiary 60), segment, then text.
      expect(await names('api')).toEqual(['acme/api', 'acme/apiary', 'acme/api-gateway', 'acme/web-api', 'acme/payments']);
      expect(await names('api org:acme tag:v1')).toEqual(['acme/api-gateway']);
      expect(await names('api user:acme')).toEqual([]);
      expect(await names('api is:public')).toEqual(['acme/apiary', 'acme/api-gateway', 'acme/web-api', 'acme/payments']);
      expect((await service.search(SYSTEM, 'api', 2, 2)).hits.map((h) => h.name)).toEqual(['acme/api-gateway', 'acme/web-api']);
      for (const name of ['acme/api-gateway', 'acme/payments', 'acme/web-api', 'acme/apiary']) await index.remove(name);
    });

    it('refuses a query it cannot read', async () => {
      await expect(service.search(principals.bob!, 'is:secret', 1, 10)).rejects.toThrow(SearchQueryInvalid);
    });
  });
}
