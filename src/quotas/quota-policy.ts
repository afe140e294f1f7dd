import { ownerOf } from '../metadata/owners';
import type { StorageQuota } from '../registry/storage-quota';
import type { QuotaLimits, QuotaLimitStore } from './quota-limits';

/** How long a process trusts the limits it read for an owner: a change made elsewhere binds every replica within this. */
export const LIMITS_TTL_MS = 5_000;
const MAX_CACHED_OWNERS = 10_000;

export interface QuotaPolicyOptions {
  clock?: () => number;
  /**
   * Repositories no limit applies to: the pull-through caches' prefixes (src/proxy), which are no owner's storage
   * (a pull filling the cache is never refused for space; its size is the cache's own business).
   */
  exempt?: (repository: string) => boolean;
}

/**
 * The limits pushes are held to: the owner's own (QuotaLimitStore) where set, else the configured defaults. Read
 * at most every LIMITS_TTL_MS per owner (one primary-key lookup), so a push costs no query for them most of the
 * time; changes made through this process are seen at once (`forget`).
 */
export class QuotaPolicy implements StorageQuota {
  private readonly cached = new Map<string, { limits: QuotaLimits; at: number }>();

  constructor(
    private readonly store: QuotaLimitStore,
    readonly defaults: QuotaLimits,
    private readonly options: QuotaPolicyOptions = {},
  ) {}

  async maxOwnerBytes(repository: string): Promise<number | undefined> {
    if (this.options.exempt?.(repository)) return undefined;
    return (await this.limitsOf(ownerOf(repository))).maxBytes ?? undefined;
  }

  async maxVersions(repository: string): Promise<number | undefined> {
    if (this.options.exempt?.(repository)) return undefined;
    return (await this.limitsOf(ownerOf(repository))).maxVersionsPerPackage ?? undefined;
  }

  /** The limits in force for the owner: its own where set, else the defaults. */
  async limitsOf(owner: string): Promise<QuotaLimits> {
    const now = (this.options.clock ?? Date.now)();
    const hit = this.cached.get(owner);
    if (hit && now - hit.at < LIMITS_TTL_MS) return hit.limits;
    const own = await this.store.get(owner);
    const limits = {
      maxBytes: own?.maxBytes ?? this.defaults.maxBytes,
      maxVersionsPerPackage: own?.maxVersionsPerPackage ?? this.defaults.maxVersionsPerPackage,
    };
    if (this.cached.size >= MAX_CACHED_OWNERS) this.cached.clear();
    this.cached.set(owner, { limits, at: now });
    return limits;
  }

  forget(owner: string): void {
    this.cached.delete(owner);
  }
}
