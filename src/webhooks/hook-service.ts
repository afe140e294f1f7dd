import { randomUUID } from 'node:crypto';
import { DomainError } from '../domain-error';
import type { Authorizer } from '../auth/authorizer';
import { AccessDenied } from '../auth/errors';
import { type Actor, isSiteAdmin, type Manager, requireManager } from '../auth/management/actor';
import { InvalidRequest, OrganizationNotFound, RepositoryNotFound } from '../auth/management/errors';
import type { IdentityStores } from '../auth/stores/identity-stores';
import type { AddressGuard } from '../outbound/address-guard';
import type { DeliveryAttempt, Hook, HookScope, HookSettings, HookStore } from './hook-store';

/** A hook the caller may not see, or none with that id under that owner. */
export class HookNotFound extends DomainError {}

/** Where hooks are managed: an organisation, a source repository (`owner/name`), or the instance. */
export type HookOwner = { kind: 'org'; org: string } | { kind: 'repository'; owner: string; name: string } | { kind: 'instance' };

/** The events a hook may ask for: GitHub's `package` and `ping`, Berth's own, or `*`. */
export const HOOK_EVENTS = ['*', 'package', 'ping', 'berth_package', 'berth_package_version', 'berth_tag'] as const;

/** The most hooks one owner may have, as GitHub's 20 per event per owner. */
const MAX_HOOKS_PER_OWNER = 20;

const ZEN = [
  'Keep it logically awesome.',
  'Design for failure.',
  'Approachable is better than simple.',
  'Half measures are as bad as nothing at all.',
];

/**
 * Hook management (issue #16): organisation owners manage an organisation's hooks, repository
 * admins a source repository's, site administrators the instance's. Changes need a full sign-in
 * (password or session), as every change to the model does. Creating a hook, and `ping`, queue a
 * `ping` delivery.
 */
export class HookService {
  constructor(
    private readonly store: HookStore,
    private readonly identities: Pick<IdentityStores, 'accounts' | 'repositories'>,
    private readonly authorizer: Authorizer,
    private readonly guard: AddressGuard,
    private readonly options: { onQueued?: () => void; now?: () => number } = {},
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  async list(actor: Actor, owner: HookOwner): Promise<Hook[]> {
    return this.store.hooksOf(await this.scope(actor, owner));
  }

  async get(actor: Actor, owner: HookOwner, id: number): Promise<Hook> {
    return this.hookOf(await this.scope(actor, owner), id);
  }

  async create(actor: Actor, owner: HookOwner, settings: HookSettings): Promise<Hook> {
    const scope = await this.scope(actor, owner);
    await this.validate(settings);
    if ((await this.store.hooksOf(scope)).length >= MAX_HOOKS_PER_OWNER) {
      throw new InvalidRequest(`at most ${MAX_HOOKS_PER_OWNER} hooks per owner`);
    }
    const hook = await this.store.createHook(scope, settings, this.now());
    await this.queuePing(hook);
    return hook;
  }

  async update(actor: Actor, owner: HookOwner, id: number, changes: Partial<HookSettings>): Promise<Hook> {
    const scope = await this.scope(actor, owner);
    const current = await this.hookOf(scope, id);
    await this.validate({ ...current, ...changes });
    const updated = await this.store.updateHook(id, changes, this.now());
    if (!updated) throw new HookNotFound(`no hook ${id}`);
    return updated;
  }

  async remove(actor: Actor, owner: HookOwner, id: number): Promise<void> {
    await this.hookOf(await this.scope(actor, owner), id);
    await this.store.deleteHook(id);
  }

  async ping(actor: Actor, owner: HookOwner, id: number): Promise<void> {
    await this.queuePing(await this.hookOf(await this.scope(actor, owner), id));
  }

  async attempts(actor: Actor, owner: HookOwner, id: number, limit: number, before?: number): Promise<DeliveryAttempt[]> {
    await this.hookOf(await this.scope(actor, owner), id);
    return this.store.attempts(id, limit, before);
  }

  async attempt(actor: Actor, owner: HookOwner, id: number, attemptId: number): Promise<DeliveryAttempt> {
    await this.hookOf(await this.scope(actor, owner), id);
    const attempt = await this.store.attempt(id, attemptId);
    if (!attempt) throw new HookNotFound(`no delivery ${attemptId} of hook ${id}`);
    return attempt;
  }

  /** Sends the delivery of a logged attempt again, under its GUID. */
  async redeliver(actor: Actor, owner: HookOwner, id: number, attemptId: number): Promise<void> {
    await this.hookOf(await this.scope(actor, owner), id);
    if (!(await this.store.redeliver(id, attemptId, this.now()))) throw new HookNotFound(`no delivery ${attemptId} of hook ${id}`);
  }

  private async queuePing(hook: Hook): Promise<void> {
    const payload = {
      zen: ZEN[hook.id % ZEN.length],
      hook_id: hook.id,
      hook: { type: SCOPE_TYPES[hook.scope.kind], id: hook.id, name: 'web', active: hook.active, events: hook.events },
    };
    await this.store.enqueue(
      [{ hookId: hook.id, source: null, guid: randomUUID(), event: 'ping', action: null, payload: JSON.stringify(payload) }],
      this.now(),
    );
    this.options.onQueued?.();
  }

  private async hookOf(scope: HookScope, id: number): Promise<Hook> {
    const hook = await this.store.hook(id);
    if (!hook || !sameScope(hook.scope, scope)) throw new HookNotFound(`no hook ${id}`);
    return hook;
  }

  private async validate(settings: HookSettings): Promise<void> {
    if (settings.events.length === 0) throw new InvalidRequest('a hook needs at least one event');
    for (const event of settings.events) {
      if (!(HOOK_EVENTS as readonly string[]).includes(event)) throw new InvalidRequest(`unknown event "${event}"`);
    }
    for (const glob of [settings.packageGlob, settings.tagGlob]) {
      if (glob !== null && !/^[A-Za-z0-9._\-/*]{1,256}$/.test(glob)) throw new InvalidRequest(`"${glob}" is not a glob of names`);
    }
    // Refused here, and checked again before each delivery (DNS can change).
    await this.guard.check(settings.url);
  }

  /** The caller's scope, refusing whoever may not manage its hooks; what they cannot see is not found. */
  private async scope(actor: Actor, owner: HookOwner): Promise<HookScope> {
    const manager = hookManager(actor, owner);
    if (owner.kind === 'instance') {
      if (!isSiteAdmin(manager)) throw new AccessDenied('instance hooks are for site administrators');
      return { kind: 'instance' };
    }
    if (owner.kind === 'org') {
      const org = await this.identities.accounts.accountByName(owner.org);
      if (!org || org.kind !== 'org') throw new OrganizationNotFound(`no organisation "${owner.org}"`);
      if (manager.kind === 'user' && !manager.isAdmin && (await this.identities.accounts.orgRole(org.id, manager.userId)) !== 'owner') {
        throw new AccessDenied(`managing the hooks of ${org.name} needs an owner of it`);
      }
      return { kind: 'org', accountId: org.id };
    }
    const repository = await this.identities.repositories.repository(owner.owner, owner.name);
    if (!repository) throw new RepositoryNotFound(`no repository ${owner.owner}/${owner.name}`);
    if (manager.kind === 'user' && !manager.isAdmin) {
      const role = await this.authorizer.repositoryRole(manager.userId, repository);
      if (role === 'none' && repository.visibility === 'private')
        throw new RepositoryNotFound(`no repository ${owner.owner}/${owner.name}`);
      if (role !== 'admin') throw new AccessDenied(`managing the hooks of ${owner.owner}/${owner.name} needs its admin role`);
    }
    return { kind: 'repository', repositoryId: repository.id };
  }
}

/**
 * Who may manage hooks: a full sign-in, or (as on GitHub) a token with the hook scope for what it manages:
 * `admin:org_hook` for an organisation's, `admin:repo_hook` for a repository's. Instance hooks need a sign-in.
 */
function hookManager(actor: Actor, owner: HookOwner): Manager {
  const grant = owner.kind === 'org' ? 'admin:org_hook' : owner.kind === 'repository' ? 'admin:repo_hook' : null;
  if (grant !== null && actor.kind === 'user' && actor.allowed !== null && actor.grants?.has(grant)) return actor;
  return requireManager(actor, grant ? `manage hooks (or use a token with ${grant})` : 'manage instance hooks');
}

const SCOPE_TYPES: Record<HookScope['kind'], string> = { org: 'Organization', repository: 'Repository', instance: 'Global' };

function sameScope(a: HookScope, b: HookScope): boolean {
  if (a.kind === 'org' && b.kind === 'org') return a.accountId === b.accountId;
  if (a.kind === 'repository' && b.kind === 'repository') return a.repositoryId === b.repositoryId;
  return a.kind === 'instance' && b.kind === 'instance';
}
