import type { IdentityStores } from '../auth/stores/identity-stores';
import type { Account } from '../auth/stores/account-store';
import type { PackageRecord } from '../auth/stores/package-store';
import type { SourceRepository } from '../auth/stores/source-repository-store';
import type { PackageCatalog, PackageFacts } from './package-catalog';

/** Packages as the identity model (token mode) records them. */
export class IdentityPackageCatalog implements PackageCatalog {
  constructor(private readonly identities: Pick<IdentityStores, 'accounts' | 'packages' | 'repositories'>) {}

  async package(name: string): Promise<PackageFacts | null> {
    const pkg = await this.identities.packages.package(name);
    return pkg ? this.facts(pkg, new Map(), new Map()) : null;
  }

  async all(): Promise<PackageFacts[]> {
    // Owners and repositories are few beside packages: each read once.
    const accounts = new Map<number, Promise<Account | null>>();
    const repositories = new Map<number, Promise<SourceRepository | null>>();
    const facts: PackageFacts[] = [];
    for (const pkg of await this.identities.packages.listPackages({})) {
      const f = await this.facts(pkg, accounts, repositories);
      if (f) facts.push(f);
    }
    return facts;
  }

  async linkedTo(repository: string): Promise<string[]> {
    const slash = repository.indexOf('/');
    const found = await this.identities.repositories.repository(repository.slice(0, slash), repository.slice(slash + 1));
    if (!found) return [];
    return (await this.identities.packages.listPackages({ repositoryId: found.id })).map((p) => p.name);
  }

  private async facts(
    pkg: PackageRecord,
    accounts: Map<number, Promise<Account | null>>,
    repositories: Map<number, Promise<SourceRepository | null>>,
  ): Promise<PackageFacts | null> {
    const owner = await cached(accounts, pkg.ownerId, (id) => this.identities.accounts.accountById(id));
    if (!owner) return null;
    const repository =
      pkg.sourceRepositoryId === null
        ? null
        : await cached(repositories, pkg.sourceRepositoryId, (id) => this.identities.repositories.repositoryById(id));
    const state = await this.identities.packages.packageState(pkg.name);
    return {
      name: pkg.name,
      owner: owner.name,
      ownerKind: owner.kind,
      ownerId: owner.id,
      repository: repository
        ? { id: repository.id, ownerId: repository.ownerId, fullName: `${repository.ownerName}/${repository.name}` }
        : null,
      visibility: repository ? repository.visibility : pkg.visibility,
      createdAt: pkg.createdAt,
      deletedAt: state?.deletedAt ?? null,
    };
  }
}

function cached<T>(cache: Map<number, Promise<T>>, id: number, read: (id: number) => Promise<T>): Promise<T> {
  let value = cache.get(id);
  if (!value) {
    value = read(id);
    cache.set(id, value);
  }
  return value;
}
