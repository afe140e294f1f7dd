import { globMatches } from '../registry/name-glob';

/**
 * An immutable-tag rule (issue #22): in an organisation's packages (`organisation`, its name) or one package
 * (`package`, its repository name), a tag matching `pattern` (`*` any run of characters: `v*`, `*`) and none of
 * `except` (`latest`) may never move to another manifest nor be deleted; pushing the same digest again is fine.
 */
export interface ImmutableTagRule {
  id: number;
  scope: 'organisation' | 'package';
  name: string;
  pattern: string;
  except: string[];
  createdAt: number;
}

export type NewImmutableTagRule = Omit<ImmutableTagRule, 'id' | 'createdAt'>;

/** Whether the rule covers `tag` in `repository`. */
export function ruleCovers(rule: ImmutableTagRule, repository: string, tag: string): boolean {
  const inScope = rule.scope === 'package' ? repository === rule.name : repository.startsWith(`${rule.name}/`);
  return inScope && globMatches(rule.pattern, tag) && !rule.except.some((glob) => globMatches(glob, tag));
}

/** The rule as the refusal names it: `immutable-tag rule 3 (organisation acme: v* except latest)`. */
export function describeRule(rule: ImmutableTagRule): string {
  const except = rule.except.length > 0 ? ` except ${rule.except.join(', ')}` : '';
  return `immutable-tag rule ${rule.id} (${rule.scope} ${rule.name}: ${rule.pattern}${except})`;
}

/** The rules' storage. */
export interface ImmutableTagRuleStore {
  add(rule: NewImmutableTagRule, now: number): Promise<ImmutableTagRule>;
  /** The rules of an organisation (scope `organisation`, and `package` rules of its packages) or of one package. */
  list(scope: ImmutableTagRule['scope'], name: string): Promise<ImmutableTagRule[]>;
  get(id: number): Promise<ImmutableTagRule | null>;
  remove(id: number): Promise<boolean>;
  /** Every rule (a few per organisation at most): what the policy caches. */
  all(): Promise<ImmutableTagRule[]>;
}
