import type { Authorizer, Role } from '../authorizer';
import type { IdentityStores } from '../stores/identity-stores';
import { NameTakenError } from '../../persistence/unique-violation';
import type { RepositoryRole, SourceRepository, Visibility } from '../stores/source-repository-store';
import { type Actor, isSiteAdmin, requireManager } from './actor';
import { UserNotFound, AccountNotFound, RepositoryNotFound, NameTaken, InvalidRequest } from './errors';
import { AccessDenied } from '../errors';
import { assertRepositoryName } from './names';
import { NO_AUDIT_LOG, type AuditLog } from '../../audit/audit-log';

export interface RepositoryView {
  owner: string;
  name: string;
  visibility: Visibility;
  createdAt: string;
  /** The caller's role on it. */
  role: Role;
}

export interface CollaboratorView {
  name: string;
  role: RepositoryRole;
}

const RANK: Record<Role, number> = { none: 0, read: 1, write: 2, admin: 3 };

/**
 * Source repositories: created under one's own name or an organisation one
 * belongs to; visibility and collaborators are set by the repository's
 * admins. Roles come from the Authorizer, the one permission model.
 */
export class RepositoryService {
  constructor(
    private readonly identities: Pick<IdentityStores, 'accounts' | 'repositories'>,
    private readonly authorizer: Authorizer,
    private readonly audit: AuditLog = NO_AUDIT_LOG,
  ) {}

  /**
   * Creates `owner/name` (owner defaults to the caller). A member who is not
   * an owner of the organisation becomes the new repository's admin, as its creator.
   */
  async create(actor: Actor, input: { owner?: string; name: string; visibility?: Visibility }): Promise<RepositoryView> {
    const manager = requireManager(actor, 'create repositories');
    assertRepositoryName(input.name);
    const ownerName = input.owner ?? (manager.kind === 'user' ? manager.name : undefined);
    if (ownerName === undefined) throw new InvalidRequest('a repository needs an owner');
    const owner = await this.identities.accounts.accountByName(ownerName);
    if (!owner) throw new AccountNotFound(`no user or organisation "${ownerName}"`);
    if (manager.kind === 'user' && !manager.isAdmin && owner.id !== manager.userId) {
      const member = owner.kind === 'org' && (await this.identities.accounts.orgRole(owner.id, manager.userId)) !== null;
      if (!member) throw new AccessDenied(`you cannot create repositories under "${ownerName}"`);
    }
    if (await this.identities.repositories.repository(owner.name, input.name))
      throw new NameTaken(`the repository ${owner.name}/${input.name} exists`);
    let repository: SourceRepository;
    try {
      repository = await this.identities.repositories.createRepository(owner.id, input.name, input.visibility ?? 'private');
    } catch (err) {
      if (err instanceof NameTakenError) throw new NameTaken(`the repository ${owner.name}/${input.name} exists`);
      throw err;
    }
    if (manager.kind === 'user' && RANK[await this.authorizer.repositoryRole(manager.userId, repository)] < RANK.admin) {
      await this.identities.repositories.setCollaborator(repository.id, manager.userId, 'admin');
    }
    return this.view(actor, repository);
  }

  /** Every repository the caller can see: public ones, and private ones they hold a role on. */
  async list(actor: Actor): Promise<RepositoryView[]> {
    const owners = [...(await this.identities.accounts.listAccounts('user')), ...(await this.identities.accounts.listAccounts('org'))];
    const views: RepositoryView[] = [];
    for (const owner of owners) {
      for (const repository of await this.identities.repositories.listRepositories(owner.id)) {
        const view = await this.view(actor, repository);
        if (repository.visibility === 'public' || view.role !== 'none') views.push(view);
      }
    }
    return views.sort((a, b) => `${a.owner}/${a.name}`.localeCompare(`${b.owner}/${b.name}`));
  }

  async show(actor: Actor, owner: string, name: string): Promise<RepositoryView> {
    const { repository } = await this.locate(actor, owner, name, 'read');
    return this.view(actor, repository);
  }

  async setVisibility(actor: Actor, owner: string, name: string, visibility: Visibility): Promise<RepositoryView> {
    requireManager(actor, 'change visibility');
    const { repository } = await this.locate(actor, owner, name, 'admin');
    await this.identities.repositories.setRepositoryVisibility(repository.id, visibility);
    await this.audit.record({
      action: 'repository.visibility',
      actor,
      target: { owner: repository.ownerName, repository: `${repository.ownerName}/${repository.name}` },
      details: { from: repository.visibility, to: visibility },
    });
    return this.view(actor, { ...repository, visibility });
  }

  async collaborators(actor: Actor, owner: string, name: string): Promise<CollaboratorView[]> {
    const { repository } = await this.locate(actor, owner, name, 'admin');
    return (await this.identities.repositories.collaborators(repository.id)).map((c) => ({ name: c.name, role: c.role }));
  }

  async setCollaborator(
    actor: Actor,
    owner: string,
    name: string,
    userName: string,
    role: RepositoryRole | null,
  ): Promise<CollaboratorView[]> {
    requireManager(actor, 'manage collaborators');
    const { repository } = await this.locate(actor, owner, name, 'admin');
    const user = await this.identities.accounts.accountByName(userName);
    if (!user || user.kind !== 'user') throw new UserNotFound(`no user "${userName}"`);
    await this.identities.repositories.setCollaborator(repository.id, user.id, role);
    await this.audit.record({
      action: 'repository.collaborator',
      actor,
      target: { owner: repository.ownerName, repository: `${repository.ownerName}/${repository.name}` },
      details: { user: user.name, role },
    });
    return (await this.identities.repositories.collaborators(repository.id)).map((c) => ({ name: c.name, role: c.role }));
  }

  /**
   * A repository and the caller's role on it, refusing when the role is
   * below `needed`. Repositories the caller cannot see are unknown to them.
   */
  async locate(actor: Actor, owner: string, name: string, needed: Role): Promise<{ repository: SourceRepository; role: Role }> {
    const repository = await this.identities.repositories.repository(owner, name);
    if (!repository) throw new RepositoryNotFound(`no repository ${owner}/${name}`);
    const role = await this.roleOf(actor, repository);
    const visible = repository.visibility === 'public' || role !== 'none';
    if (!visible) throw new RepositoryNotFound(`no repository ${owner}/${name}`);
    // A public repository is readable by everyone.
    const effective: Role = repository.visibility === 'public' && role === 'none' ? 'read' : role;
    if (RANK[effective] < RANK[needed]) throw new AccessDenied(`this needs the ${needed} role on ${owner}/${name}`);
    return { repository, role };
  }

  async roleOf(actor: Actor, repository: SourceRepository): Promise<Role> {
    if (isSiteAdmin(actor)) return 'admin';
    if (actor.kind === 'user') return this.authorizer.repositoryRole(actor.userId, repository);
    if (actor.kind === 'ci' && actor.repositoryId === repository.id) return 'write';
    return 'none';
  }

  private async view(actor: Actor, repository: SourceRepository): Promise<RepositoryView> {
    return {
      owner: repository.ownerName,
      name: repository.name,
      visibility: repository.visibility,
      createdAt: new Date(repository.createdAt).toISOString(),
      role: await this.roleOf(actor, repository),
    };
  }
}

export function atLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}
