import type { Actor } from '../auth/management/actor';
import { InvalidRequest } from '../auth/management/errors';
import { requireNamespaceManager } from '../auth/management/namespace-manager';
import type { AccountStore } from '../auth/stores/account-store';
import { isTagGlob } from '../registry/name-glob';
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
      if (!isTagGlob(glob)) throw new InvalidRequest(`not a tag pattern: ${glob.slice(0, 64)}`);
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
    const ownerName = target.scope === 'package' ? (target.name.split('/')[0] ?? '') : target.name;
    await requireNamespaceManager(this.accounts, actor, ownerName, what);
  }
}
