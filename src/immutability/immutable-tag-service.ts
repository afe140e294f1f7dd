import { AccessDenied } from '../auth/errors';
import { isSiteAdmin, requireManager, type Actor } from '../auth/management/actor';
import { AccountNotFound, InvalidRequest } from '../auth/management/errors';
import type { AccountStore } from '../auth/stores/account-store';
import { isValidTag } from '../oci/reference';
import type { ImmutableTagPolicy } from './immutable-tag-policy';
import type { ImmutableTagRule, ImmutableTagRuleStore } from './immutable-tag-rules';

export interface RuleTarget {
  scope: ImmutableTagRule['scope'];
  name: string;
}

export interface RuleRequest extends RuleTarget {
  pattern: string;
  except: string[];
}

/**
 * Immutable-tag rules, managed by whoever owns the namespace: the user of a personal namespace, an
 * organisation's owners, and site administrators; with a full sign-in (not a token), as other settings.
 */
export class ImmutableTagService {
  constructor(
    private readonly store: ImmutableTagRuleStore,
    private readonly accounts: AccountStore,
    private readonly policy: ImmutableTagPolicy,
    private readonly clock: () => number = Date.now,
  ) {}

  async add(actor: Actor, request: RuleRequest): Promise<ImmutableTagRule> {
    for (const glob of [request.pattern, ...request.except]) {
      // A glob is a tag with `*` in it: the tag grammar keeps hostile text out of refusals and listings.
      if (glob.length > 128 || !isValidTag(glob.replace(/\*/g, 'x'))) throw new InvalidRequest(`not a tag pattern: ${glob.slice(0, 64)}`);
    }
    await this.authorize(actor, request, 'add immutable-tag rules');
    const rule = await this.store.add(request, this.clock());
    this.policy.forget();
    return rule;
  }

  async list(actor: Actor, target: RuleTarget): Promise<ImmutableTagRule[]> {
    await this.authorize(actor, target, 'list immutable-tag rules');
    return this.store.list(target.scope, target.name);
  }

  /** False when no rule has the id. */
  async remove(actor: Actor, id: number): Promise<boolean> {
    const rule = await this.store.get(id);
    if (!rule) return false;
    await this.authorize(actor, rule, 'remove immutable-tag rules');
    const removed = await this.store.remove(id);
    this.policy.forget();
    return removed;
  }

  private async authorize(actor: Actor, target: RuleTarget, what: string): Promise<void> {
    const manager = requireManager(actor, what);
    const ownerName = target.scope === 'package' ? (target.name.split('/')[0] ?? '') : target.name;
    const owner = await this.accounts.accountByName(ownerName);
    if (!owner) throw new AccountNotFound(`no user or organisation ${ownerName.slice(0, 64)}`);
    if (isSiteAdmin(manager) || manager.kind !== 'user') return;
    if (owner.kind === 'user' ? owner.id === manager.userId : (await this.accounts.orgRole(owner.id, manager.userId)) === 'owner') return;
    throw new AccessDenied(`only ${owner.kind === 'user' ? owner.name : `the owners of ${owner.name}`} may ${what} there`);
  }
}
