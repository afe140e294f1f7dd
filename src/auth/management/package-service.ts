import { isValidName } from '../../oci/reference';
import type { Authorizer, Role } from '../authorizer';
import type { IdentityStores } from '../stores/identity-stores';
import type { PackageRecord } from '../stores/package-store';
import type { SourceRepository, Visibility } from '../stores/source-repository-store';
import { ALL_ACTIONS, type PackageAction } from '../principal';
import { type Actor, isSiteAdmin, requireManager } from './actor';
import { PackageNotFound, StillNeeded, InvalidRequest } from './errors';
import { AccessDenied } from '../errors';
import { parseRepositoryPath } from './names';
import { atLeast, type RepositoryService } from './repository-service';
import { NO_AUDIT_LOG, type AuditLog } from '../../audit/audit-log';

export interface PackageView {
  name: string;
  owner: string;
  /** `owner/name` of the source repository it is linked to, whose visibility and roles it inherits. */
  repository: string | null;
  /** The visibility in force: the repository's when linked, the package's own otherwise. */
  visibility: Visibility;
  createdAt: string;
  /** What the caller's credential may do with it. */
  actions: PackageAction[];
}

/**
 * Packages (OCI repositories `<owner>/<name>…`): listing what the caller
 * can pull, linking to and unlinking from a source repository, and the
 * visibility of unlinked packages. Who holds which role is the
 * Authorizer's decision.
 */
export class PackageService {
  constructor(
    private readonly identities: Pick<IdentityStores, 'accounts' | 'packages' | 'repositories'>,
    private readonly authorizer: Authorizer,
    private readonly repositories: RepositoryService,
    private readonly audit: AuditLog = NO_AUDIT_LOG,
  ) {}

  async list(actor: Actor): Promise<PackageView[]> {
    const views: PackageView[] = [];
    for (const pkg of await this.identities.packages.listPackages({})) {
      const view = await this.view(actor, pkg);
      if (view.actions.includes('pull')) views.push(view);
    }
    return views;
  }

  async show(actor: Actor, name: string): Promise<PackageView> {
    const pkg = await this.identities.packages.package(name);
    if (!pkg) throw new PackageNotFound(`no package ${name}`);
    const view = await this.view(actor, pkg);
    if (!view.actions.includes('pull') && (await this.roleOf(actor, pkg)) === 'none') throw new PackageNotFound(`no package ${name}`);
    return view;
  }

  /**
   * Links a package to a source repository: admin on the package and write
   * on the repository. A package nobody has pushed yet may be linked ahead
   * of its first push by whoever would own it.
   */
  async link(actor: Actor, name: string, repositoryPath: string): Promise<PackageView> {
    requireManager(actor, 'link packages');
    const pkg = await this.administered(actor, name, true);
    const { owner, name: repoName } = parseRepositoryPath(repositoryPath);
    const { repository } = await this.repositories.locate(actor, owner, repoName, 'write');
    const stored = await this.identities.packages.ensurePackage(pkg);
    await this.identities.packages.linkPackage(stored.name, repository.id);
    const target = { owner: ownerName(stored.name), package: stored.name, repository: `${repository.ownerName}/${repository.name}` };
    await this.audit.record({ action: 'package.link', actor, target });
    return this.view(actor, { ...stored, sourceRepositoryId: repository.id });
  }

  /** Unlinks a package: it falls back to its own visibility and its owner's roles. */
  async unlink(actor: Actor, name: string): Promise<PackageView> {
    requireManager(actor, 'unlink packages');
    const pkg = await this.administered(actor, name, false);
    await this.identities.packages.linkPackage(pkg.name, null);
    const from = pkg.sourceRepositoryId === null ? null : await this.identities.repositories.repositoryById(pkg.sourceRepositoryId);
    const repository = from ? `${from.ownerName}/${from.name}` : undefined;
    await this.audit.record({ action: 'package.unlink', actor, target: { owner: ownerName(pkg.name), package: pkg.name, repository } });
    return this.view(actor, { ...pkg, sourceRepositoryId: null });
  }

  /** The visibility of an unlinked package; a linked one follows its repository. */
  async setVisibility(actor: Actor, name: string, visibility: Visibility): Promise<PackageView> {
    requireManager(actor, 'change visibility');
    const pkg = await this.administered(actor, name, false);
    if (pkg.sourceRepositoryId !== null) {
      const repository = await this.identities.repositories.repositoryById(pkg.sourceRepositoryId);
      throw new StillNeeded(
        `${name} is linked to ${repository ? `${repository.ownerName}/${repository.name}` : 'a repository'}, whose visibility it follows; unlink it first`,
      );
    }
    await this.identities.packages.setPackageVisibility(pkg.name, visibility);
    const target = { owner: ownerName(pkg.name), package: pkg.name };
    await this.audit.record({ action: 'package.visibility', actor, target, details: { from: pkg.visibility, to: visibility } });
    return this.view(actor, { ...pkg, visibility });
  }

  /**
   * A package the caller administers. With `orNew`, a package not pushed
   * yet is judged as it would be stored: unlinked, private, owned by its namespace.
   */
  private async administered(actor: Actor, name: string, orNew: boolean): Promise<PackageRecord> {
    let pkg = await this.identities.packages.package(name);
    if (!pkg) {
      if (!isValidName(name)) throw new InvalidRequest(`invalid package name: ${name}`);
      const namespace = await this.identities.accounts.accountByName(name.split('/')[0] ?? '');
      if (!orNew || !namespace || !name.includes('/')) throw new PackageNotFound(`no package ${name}`);
      pkg = { name, ownerId: namespace.id, sourceRepositoryId: null, visibility: 'private', createdAt: Date.now() };
    }
    const role = await this.roleOf(actor, pkg);
    if (atLeast(role, 'admin')) return pkg;
    const view = await this.view(actor, pkg);
    if (role === 'none' && !view.actions.includes('pull')) throw new PackageNotFound(`no package ${name}`);
    throw new AccessDenied(`this needs the admin role on ${name}`);
  }

  private async roleOf(actor: Actor, pkg: PackageRecord): Promise<Role> {
    if (isSiteAdmin(actor)) return 'admin';
    if (actor.kind === 'user') return this.authorizer.packageRole(actor.userId, pkg);
    return 'none';
  }

  private async view(actor: Actor, pkg: PackageRecord): Promise<PackageView> {
    const owner = await this.identities.accounts.accountById(pkg.ownerId);
    const repository: SourceRepository | null =
      pkg.sourceRepositoryId === null ? null : await this.identities.repositories.repositoryById(pkg.sourceRepositoryId);
    const actions = actor.kind === 'system' ? new Set(ALL_ACTIONS) : (await this.authorizer.decide(actor, pkg.name)).actions;
    return {
      name: pkg.name,
      owner: owner?.name ?? '',
      repository: repository ? `${repository.ownerName}/${repository.name}` : null,
      visibility: repository ? repository.visibility : pkg.visibility,
      createdAt: new Date(pkg.createdAt).toISOString(),
      actions: (['pull', 'push', 'delete'] as const).filter((a) => actions.has(a)),
    };
  }
}

/** The user or organisation whose namespace a package is in. */
function ownerName(pkg: string): string {
  return pkg.split('/')[0] ?? pkg;
}
