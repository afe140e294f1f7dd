import { NO_AUDIT_LOG, type AuditDetails, type AuditLog } from '../../audit/audit-log';
import type { ManifestPushedEvent } from '../../events/registry-events';
import type { MetadataIndex } from '../../metadata/metadata-index';
import type { VersionDeleteScope, VersionFacts, VersionQuery, VersionRecord, VersionRestoration } from '../../metadata/versions';
import { isValidName, isValidTag } from '../../oci/reference';
import type { Authorizer } from '../authorizer';
import { AccessDenied, Unauthenticated } from '../errors';
import type { Principal } from '../principal';
import type { IdentityStores } from '../stores/identity-stores';
import type { Account } from '../stores/account-store';
import type { PackageRecord } from '../stores/package-store';
import type { Visibility } from '../stores/source-repository-store';
import { type Actor, actorName, isSiteAdmin, SYSTEM } from './actor';
import { AccountNotFound, InvalidRequest, PackageNotFound } from './errors';
import { ImmutableTagGuard } from './immutable-tag-guard';
import { atLeast } from './repository-service';
import { NO_IMMUTABLE_TAGS, type TagPolicy } from '../../registry/manifest-service';

/** The part of the metadata index the packages API reads and changes. */
export type VersionIndex = Pick<
  MetadataIndex,
  | 'listVersions'
  | 'getVersion'
  | 'versionFacts'
  | 'deleteVersion'
  | 'restoreVersion'
  | 'deleteAllVersions'
  | 'restoreVersionsDeletedAt'
  | 'deleteTag'
  | 'getManifest'
>;

export interface PackageSummary {
  id: number;
  /** Berth's name, the OCI path: `owner/rest`. */
  fullName: string;
  /** GitHub's name: the path under its owner. */
  name: string;
  owner: Account;
  visibility: Visibility;
  /** `owner/name` of the linked source repository. */
  repository: { id: number; fullName: string; visibility: Visibility } | null;
  createdAt: number;
  updatedAt: number;
  versionCount: number;
}

export interface VersionView extends VersionRecord {
  facts: VersionFacts;
}

export interface PackageVersionSettings {
  /** Deleted versions and packages can be restored this long; after it, they wait for garbage collection. */
  restoreWindowDays: number;
}

/** Where the API addressed a package: an owner (`/orgs/x`, `/users/x`, `/user`) and its name under it. */
export interface PackageAddress {
  owner: Account;
  name: string;
}

/**
 * Packages and their versions as GitHub's packages API serves them
 * (issue #15): reading needs pull; deleting and restoring needs the admin
 * role on the package (and, through a token, the delete scope), or a CI
 * token of the source repository the package is linked to.
 */
export class PackageVersionService {
  constructor(
    private readonly identities: Pick<IdentityStores, 'accounts' | 'packages' | 'repositories'>,
    private readonly authorizer: Authorizer,
    private readonly index: VersionIndex,
    private readonly audit: AuditLog = NO_AUDIT_LOG,
    private readonly settings: PackageVersionSettings = { restoreWindowDays: 30 },
    private readonly clock: () => number = () => Date.now(),
    tagPolicy: TagPolicy = NO_IMMUTABLE_TAGS,
  ) {
    this.immutable = new ImmutableTagGuard(index, tagPolicy);
  }

  private readonly immutable: ImmutableTagGuard;

  /** The account a path names; `kind` when the path says which (`/orgs/…` or `/users/…`). */
  async owner(login: string, kind?: Account['kind']): Promise<Account> {
    const account = await this.identities.accounts.accountByName(login);
    if (!account || (kind !== undefined && account.kind !== kind)) throw new AccountNotFound(`no ${kind ?? 'account'} ${login}`);
    return account;
  }

  /** The caller's own account (`/user`). */
  async self(actor: Actor): Promise<Account> {
    if (actor.kind !== 'user') throw new Unauthenticated('this needs a user: sign in with a password or a personal access token');
    return this.owner(actor.name);
  }

  async listPackages(actor: Actor, owner: Account, visibility?: Visibility): Promise<PackageSummary[]> {
    const summaries: PackageSummary[] = [];
    for (const pkg of await this.identities.packages.listPackages({ ownerId: owner.id })) {
      const state = await this.identities.packages.packageState(pkg.name);
      if (!state || state.deletedAt !== null || !(await this.canPull(actor, pkg.name))) continue;
      const summary = await this.summary(pkg, owner, state.id);
      if (visibility === undefined || summary.visibility === visibility) summaries.push(summary);
    }
    // Newest first, as GitHub lists them.
    return summaries.sort((a, b) => b.id - a.id);
  }

  async getPackage(actor: Actor, at: PackageAddress): Promise<PackageSummary> {
    const { pkg, id } = await this.readable(actor, at);
    return this.summary(pkg, at.owner, id);
  }

  /** Soft-deletes the package: every version, at one instant a restore finds them by. */
  async deletePackage(actor: Actor, at: PackageAddress): Promise<void> {
    const { pkg } = await this.managed(actor, at, 'active');
    await this.immutable.refusePackage(pkg.name);
    const now = this.clock();
    await this.index.deleteAllVersions(pkg.name, now, actorName(actor));
    await this.identities.packages.setPackageDeletedAt(pkg.name, now);
    await this.audit.record({ action: 'package.delete', actor, target: { owner: at.owner.name, package: pkg.name } });
  }

  async restorePackage(actor: Actor, at: PackageAddress): Promise<VersionRestoration> {
    const { pkg, deletedAt } = await this.managed(actor, at, 'deleted');
    this.checkRestorable(`package ${at.name}`, deletedAt);
    const restored = await this.index.restoreVersionsDeletedAt(pkg.name, deletedAt ?? 0, this.clock(), actorName(actor));
    await this.identities.packages.setPackageDeletedAt(pkg.name, null);
    await this.audit.record({
      action: 'package.restore',
      actor,
      target: { owner: at.owner.name, package: pkg.name },
      details: restorationDetails(restored),
    });
    return restored;
  }

  async listVersions(actor: Actor, at: PackageAddress, query: VersionQuery): Promise<{ versions: VersionView[]; total: number }> {
    const { pkg } = await this.readable(actor, at);
    const { versions, total } = await this.index.listVersions(pkg.name, query);
    const facts = await this.index.versionFacts(versions);
    return { versions: versions.map((version, i) => ({ ...version, facts: facts[i] as VersionFacts })), total };
  }

  async getVersion(actor: Actor, at: PackageAddress, id: number): Promise<VersionView> {
    const { pkg } = await this.readable(actor, at);
    const version = await this.index.getVersion(pkg.name, id);
    if (!version) throw new PackageNotFound(`no version ${id} of ${pkg.name}`);
    const [facts] = await this.index.versionFacts([version]);
    return { ...version, facts: facts as VersionFacts };
  }

  /** Deletes versions (one, or many in one request); all are checked before any goes, one at a time after. */
  async deleteVersions(actor: Actor, at: PackageAddress, ids: number[], scope: VersionDeleteScope): Promise<number[]> {
    const { pkg } = await this.managed(actor, at, 'active');
    const versions: VersionRecord[] = [];
    for (const id of ids) {
      const version = await this.index.getVersion(pkg.name, id);
      if (!version) throw new PackageNotFound(`no version ${id} of ${pkg.name}`);
      if (version.deletedAt === null) versions.push(version);
    }
    await this.immutable.refuseVersions(pkg.name, versions, scope.tree);
    const deleted = new Set<number>();
    const now = this.clock();
    for (const id of ids) {
      // A version an earlier tree delete of this request took along is already gone.
      if (deleted.has(id)) continue;
      const gone = await this.index.deleteVersion(pkg.name, id, { ...scope, now, actor: actorName(actor) });
      if (gone === null && ids.length === 1) throw new PackageNotFound(`version ${id} of ${pkg.name} is already deleted`);
      for (const d of gone ?? []) deleted.add(d);
    }
    const ordered = [...deleted].sort((a, b) => a - b);
    if (ordered.length > 0) {
      await this.audit.record({
        action: 'version.delete',
        actor,
        target: { owner: at.owner.name, package: pkg.name },
        details: { versions: ordered.map(String), tree: scope.tree, ...(scope.detach ? { detach: true } : {}) },
      });
    }
    return ordered;
  }

  /** Removes one tag of an active version; the version and its other tags stay (GHCR cannot do this). */
  async deleteTag(actor: Actor, at: PackageAddress, id: number, tag: string): Promise<void> {
    const { pkg } = await this.managed(actor, at, 'active');
    if (!isValidTag(tag)) throw new InvalidRequest(`invalid tag: ${tag}`);
    const version = await this.index.getVersion(pkg.name, id);
    if (!version || version.deletedAt !== null) throw new PackageNotFound(`no version ${id} of ${pkg.name}`);
    if (version.tags.includes(tag)) await this.immutable.refuseTag(pkg.name, tag);
    // Only while the tag still names this version: one moved since the caller looked stays.
    if (!version.tags.includes(tag) || !(await this.index.deleteTag(pkg.name, tag, { digest: version.digest, actor: actorName(actor) }))) {
      throw new PackageNotFound(`version ${id} of ${pkg.name} has no tag ${tag}`);
    }
    await this.audit.record({
      action: 'tag.delete',
      actor,
      target: { owner: at.owner.name, package: pkg.name },
      details: { tag, version: String(id), digest: version.digest },
    });
  }

  async restoreVersion(actor: Actor, at: PackageAddress, id: number): Promise<VersionRestoration> {
    const { pkg } = await this.managed(actor, at, 'active');
    const version = await this.index.getVersion(pkg.name, id);
    if (version) this.checkRestorable(`version ${id} of ${pkg.name}`, version.deletedAt);
    const restored = await this.index.restoreVersion(pkg.name, id, this.clock(), actorName(actor));
    if (!restored) throw new PackageNotFound(`no version ${id} of ${pkg.name}`);
    await this.audit.record({
      action: 'version.restore',
      actor,
      target: { owner: at.owner.name, package: pkg.name },
      details: restorationDetails(restored),
    });
    return restored;
  }

  private async summary(pkg: PackageRecord, owner: Account, id: number): Promise<PackageSummary> {
    const repository = pkg.sourceRepositoryId === null ? null : await this.identities.repositories.repositoryById(pkg.sourceRepositoryId);
    const { versions, total } = await this.index.listVersions(pkg.name, { state: 'active', limit: 1 });
    return {
      id,
      fullName: pkg.name,
      name: pkg.name.slice(owner.name.length + 1),
      owner,
      visibility: repository ? repository.visibility : pkg.visibility,
      repository: repository
        ? { id: repository.id, fullName: `${repository.ownerName}/${repository.name}`, visibility: repository.visibility }
        : null,
      createdAt: pkg.createdAt,
      updatedAt: Math.max(pkg.createdAt, versions[0]?.updatedAt ?? 0),
      versionCount: total,
    };
  }

  /**
   * A push into a deleted package brings the package back with what was pushed; the versions deleted with it
   * stay deleted and restorable one by one (GitHub lets a new package take a deleted one's name instead, and the
   * old one can no longer be restored).
   */
  async onManifestPushed(event: ManifestPushedEvent): Promise<void> {
    const state = await this.identities.packages.packageState(event.repository);
    if (state?.deletedAt == null) return;
    await this.identities.packages.setPackageDeletedAt(event.repository, null);
    await this.audit.record({
      action: 'package.restore',
      actor: (event.actor.principal as Principal | undefined) ?? SYSTEM,
      target: { owner: event.repository.split('/')[0] ?? '', package: event.repository },
      details: { by: 'push' },
    });
  }

  private checkRestorable(what: string, deletedAt: number | null): void {
    if (deletedAt === null) return;
    const days = this.settings.restoreWindowDays;
    if (this.clock() - deletedAt > days * 86_400_000) {
      throw new PackageNotFound(`${what} was deleted more than ${days} days ago and can no longer be restored`);
    }
  }

  /** An active package the caller may pull; what they may not see is not found. */
  private async readable(actor: Actor, at: PackageAddress): Promise<{ pkg: PackageRecord; id: number }> {
    const found = await this.find(at);
    if (found.deletedAt !== null || !(await this.canPull(actor, found.pkg.name))) throw notFound(at);
    return found;
  }

  /** A package the caller may delete and restore, in the state the operation needs. */
  private async managed(
    actor: Actor,
    at: PackageAddress,
    state: 'active' | 'deleted',
  ): Promise<{ pkg: PackageRecord; id: number; deletedAt: number | null }> {
    const found = await this.find(at);
    const { pkg } = found;
    if (!(await this.mayManage(actor, pkg))) {
      if (actor.kind === 'anonymous') throw new Unauthenticated(`sign in to manage ${pkg.name}`);
      if (!(await this.canPull(actor, pkg.name))) throw notFound(at);
      throw new AccessDenied(`this needs the admin role on ${pkg.name}, and a token with delete:packages`);
    }
    if ((state === 'active') !== (found.deletedAt === null)) throw notFound(at, state === 'deleted' ? 'deleted ' : '');
    return found;
  }

  private async find(at: PackageAddress): Promise<{ pkg: PackageRecord; id: number; deletedAt: number | null }> {
    const fullName = `${at.owner.name}/${at.name}`;
    if (!isValidName(fullName)) throw new InvalidRequest(`invalid package name: ${at.name}`);
    const pkg = await this.identities.packages.package(fullName);
    const state = pkg ? await this.identities.packages.packageState(fullName) : null;
    if (!pkg || !state) throw notFound(at);
    return { pkg, id: state.id, deletedAt: state.deletedAt };
  }

  private async canPull(actor: Actor, name: string): Promise<boolean> {
    if (actor.kind === 'system') return true;
    return (await this.authorizer.decide(actor, name)).actions.has('pull');
  }

  private async mayManage(actor: Actor, pkg: PackageRecord): Promise<boolean> {
    if (isSiteAdmin(actor) && (actor.kind !== 'user' || actor.allowed === null || actor.allowed.has('delete'))) return true;
    // A CI token manages the packages of its own repository, as GitHub's workflow token does.
    if (actor.kind === 'ci') return pkg.sourceRepositoryId === actor.repositoryId;
    if (actor.kind !== 'user') return false;
    if (actor.allowed !== null && !actor.allowed.has('delete')) return false;
    return atLeast(await this.authorizer.packageRole(actor.userId, pkg), 'admin');
  }
}

function notFound(at: PackageAddress, what = ''): PackageNotFound {
  return new PackageNotFound(`no ${what}package ${at.name} owned by ${at.owner.name}`);
}

/** What a restore brought back, for the audit log. */
function restorationDetails(r: VersionRestoration): AuditDetails {
  return { versions: r.restored.map(String), tagsRestored: r.tagsRestored, tagsMoved: r.tagsMoved.map((m) => `${m.tag}@${m.digest}`) };
}
