import type { IdentityStores } from './stores/identity-stores';
import type { PackageRecord } from './stores/package-store';
import type { RepositoryRole, SourceRepository, Visibility } from './stores/source-repository-store';
import { ALL_ACTIONS, type PackageAction, type Principal } from './principal';

/** A principal's standing on a source repository or package, weakest first. */
export type Role = 'none' | RepositoryRole;
const RANK: Record<Role, number> = { none: 0, read: 1, write: 2, admin: 3 };
const max = (a: Role, b: Role): Role => (RANK[a] >= RANK[b] ? a : b);

const ROLE_ACTIONS: Record<Role, PackageAction[]> = {
  none: [],
  read: ['pull'],
  write: ['pull', 'push'],
  admin: ['pull', 'push', 'delete'],
};

/** What the authorizer decided about one package, with the reason kept for creating it on push. */
export interface PackageDecision {
  actions: Set<PackageAction>;
  /** Set when the package does not exist yet and this principal may create it by pushing. */
  create: { ownerId: number; sourceRepositoryId: number | null } | null;
}

/**
 * The one permission model. A package (an OCI repository `<owner>/<name>…`)
 * linked to a source repository inherits that repository's visibility and
 * roles; an unlinked package has its own visibility and belongs to its
 * owner. Credentials then narrow what the role allows (PAT scopes, a CI
 * token's single repository).
 */
export class Authorizer {
  constructor(
    private readonly identities: Pick<IdentityStores, 'accounts' | 'packages' | 'repositories'>,
    /**
     * Names whose rules are not the model's (pull-through caches' prefixes): a decision here wins,
     * narrowed by the credential like any other; undefined leaves the name to the model.
     */
    private readonly reserved: (principal: Principal, packageName: string) => PackageDecision | undefined = () => undefined,
  ) {}

  async decide(principal: Principal, packageName: string): Promise<PackageDecision> {
    const reserved = this.reserved(principal, packageName);
    if (reserved) return principal.kind === 'user' ? { actions: narrow(reserved.actions, principal), create: null } : reserved;
    if (principal.kind === 'user' && principal.isAdmin) {
      return { actions: narrow(new Set(ALL_ACTIONS), principal), create: await this.creation(packageName, null) };
    }
    const pkg = await this.identities.packages.package(packageName);
    if (!pkg) return this.decideNew(principal, packageName);
    const repository = pkg.sourceRepositoryId === null ? null : await this.identities.repositories.repositoryById(pkg.sourceRepositoryId);
    const visibility: Visibility = repository ? repository.visibility : pkg.visibility;
    const actions = new Set<PackageAction>(visibility === 'public' ? ['pull'] : []);

    if (principal.kind === 'ci') {
      if (repository && repository.id === principal.repositoryId) for (const a of ROLE_ACTIONS.write) actions.add(a);
      return { actions, create: null };
    }
    if (principal.kind === 'user') {
      const role = await this.role(principal.userId, pkg, repository);
      for (const a of ROLE_ACTIONS[role]) actions.add(a);
      return { actions: narrow(actions, principal), create: null };
    }
    return { actions, create: null };
  }

  /** Whether the user holds at least `wanted` on a source repository (for linking and CI tokens). */
  async repositoryRole(userId: number, repository: SourceRepository): Promise<Role> {
    let role: Role = repository.ownerId === userId ? 'admin' : 'none';
    const orgRole = await this.identities.accounts.orgRole(repository.ownerId, userId);
    if (orgRole === 'owner') role = max(role, 'admin');
    else if (orgRole === 'member') role = max(role, 'read');
    const collaborator = await this.identities.repositories.collaboratorRole(repository.id, userId);
    if (collaborator) role = max(role, collaborator);
    const user = await this.identities.accounts.accountById(userId);
    if (user?.isAdmin) role = 'admin';
    return role;
  }

  /**
   * A user's role on a package record (existing, or as it would be stored unlinked): the linked
   * repository's role, else the owner's. For management (linking, visibility), not credentials.
   */
  async packageRole(userId: number, pkg: PackageRecord): Promise<Role> {
    const repository = pkg.sourceRepositoryId === null ? null : await this.identities.repositories.repositoryById(pkg.sourceRepositoryId);
    if (!repository && (await this.identities.accounts.accountById(userId))?.isAdmin) return 'admin';
    return this.role(userId, pkg, repository);
  }

  private async role(userId: number, pkg: PackageRecord, repository: SourceRepository | null): Promise<Role> {
    if (repository) return this.repositoryRole(userId, repository);
    if (pkg.ownerId === userId) return 'admin';
    const orgRole = await this.identities.accounts.orgRole(pkg.ownerId, userId);
    if (orgRole === 'owner') return 'admin';
    if (orgRole === 'member') return 'write';
    return 'none';
  }

  /** A package nobody has pushed yet: whoever may push into its namespace may create it. */
  private async decideNew(principal: Principal, packageName: string): Promise<PackageDecision> {
    const none: PackageDecision = { actions: new Set(), create: null };
    if (principal.kind === 'anonymous') return none;
    if (principal.kind === 'ci') {
      const owner = await this.namespaceOwner(packageName);
      if (!owner || owner.id !== principal.repositoryOwnerId) return none;
      // What a CI token creates belongs to its repository from the start.
      return { actions: new Set(ROLE_ACTIONS.write), create: { ownerId: owner.id, sourceRepositoryId: principal.repositoryId } };
    }
    const owner = await this.namespaceOwner(packageName);
    if (!owner) return none;
    const mayCreate =
      owner.id === principal.userId ||
      (owner.kind === 'org' && (await this.identities.accounts.orgRole(owner.id, principal.userId)) !== null);
    if (!mayCreate) return none;
    return { actions: narrow(new Set(ROLE_ACTIONS.admin), principal), create: { ownerId: owner.id, sourceRepositoryId: null } };
  }

  private async creation(packageName: string, sourceRepositoryId: number | null): Promise<PackageDecision['create']> {
    if (await this.identities.packages.package(packageName)) return null;
    const owner = await this.namespaceOwner(packageName);
    return owner ? { ownerId: owner.id, sourceRepositoryId } : null;
  }

  private async namespaceOwner(packageName: string) {
    const namespace = packageName.split('/')[0] ?? '';
    return this.identities.accounts.accountByName(namespace);
  }
}

function narrow(actions: Set<PackageAction>, principal: Principal): Set<PackageAction> {
  if (principal.kind !== 'user' || principal.allowed === null) return actions;
  const allowed = principal.allowed;
  return new Set([...actions].filter((a) => allowed.has(a)));
}
