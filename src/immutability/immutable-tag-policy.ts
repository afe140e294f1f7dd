import type { TagPolicy } from '../registry/manifest-service';
import { describeRule, ruleCovers, type ImmutableTagRule, type ImmutableTagRuleStore } from './immutable-tag-rules';

/** How long a process trusts the rules it read: a rule added elsewhere binds every replica within this. */
export const RULES_TTL_MS = 5_000;

/**
 * Which rule, if any, makes a tag immutable. The rules are read at most every RULES_TTL_MS (all of them, a few
 * rows): a manifest push stays one database round trip on PostgreSQL. Changes made through this process are
 * seen at once (`forget`).
 */
export class ImmutableTagPolicy implements TagPolicy {
  private cached: { rules: ImmutableTagRule[]; at: number } | null = null;

  constructor(
    private readonly store: ImmutableTagRuleStore,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The rule covering `tag` in `repository`, described for a refusal, or null. */
  async ruleFor(repository: string, tag: string): Promise<string | null> {
    const rule = (await this.rules()).find((r) => ruleCovers(r, repository, tag));
    return rule ? describeRule(rule) : null;
  }

  async governs(repository: string): Promise<boolean> {
    const owner = repository.split('/')[0];
    return (await this.rules()).some((r) => (r.scope === 'package' ? r.name === repository : r.name === owner));
  }

  forget(): void {
    this.cached = null;
  }

  private async rules(): Promise<ImmutableTagRule[]> {
    const now = this.clock();
    if (!this.cached || now - this.cached.at >= RULES_TTL_MS) this.cached = { rules: await this.store.all(), at: now };
    return this.cached.rules;
  }
}
