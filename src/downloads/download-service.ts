import { isoDay, utcDay, type DownloadStore } from './download-store';

/** The last days the API shows, today included. */
export const DAILY_SERIES_DAYS = 30;

export interface DownloadDay {
  /** `YYYY-MM-DD`, UTC. */
  date: string;
  count: number;
}

export interface PackageDownloads {
  package: string;
  total: number;
  /** Every version (manifest digest) ever downloaded, most downloaded first. */
  versions: Array<{ digest: string; total: number }>;
  /** The last 30 UTC days, oldest first, every day present (0 when nothing was downloaded). */
  daily: DownloadDay[];
}

/**
 * Refuses (by throwing the package layer's own not-found or access error)
 * when `actor` may not read the package `name`; the same rule as showing it.
 */
export type PackageReadCheck<Actor> = (actor: Actor, name: string) => Promise<void>;

/**
 * Download counts as the API and the versions JSON show them. Counts reach
 * the store at each process's flush, so they lag pulls by a few seconds.
 */
export class DownloadService<Actor> {
  constructor(
    private readonly store: DownloadStore,
    private readonly canRead: PackageReadCheck<Actor>,
    private readonly now: () => number = Date.now,
  ) {}

  /** A package's totals, per-version totals and last 30 days, for a caller who may read it. */
  async forPackage(actor: Actor, name: string): Promise<PackageDownloads> {
    await this.canRead(actor, name);
    const totals = await this.store.versionTotals(name);
    const versions = [...totals]
      .map(([digest, total]) => ({ digest, total }))
      .sort((a, b) => b.total - a.total || a.digest.localeCompare(b.digest));
    return {
      package: name,
      total: versions.reduce((sum, v) => sum + v.total, 0),
      versions,
      daily: await this.dailySeries(name),
    };
  }

  /** All-time totals of the given versions of a package (0 for one never downloaded); no access check. */
  async versionTotals(name: string, digests: readonly string[]): Promise<Map<string, number>> {
    const stored = await this.store.versionTotals(name, digests);
    return new Map(digests.map((d) => [d, stored.get(d) ?? 0]));
  }

  /** A package's all-time total; no access check. */
  packageTotal(name: string): Promise<number> {
    return this.store.packageTotal(name);
  }

  /** The last 30 UTC days of a package, or of one version with `digest`, oldest first; no access check. */
  async dailySeries(name: string, digest?: string): Promise<DownloadDay[]> {
    const today = utcDay(this.now());
    const from = today - DAILY_SERIES_DAYS + 1;
    const counts = new Map((await this.store.daily(name, from, today, digest)).map((d) => [d.day, d.count]));
    return Array.from({ length: DAILY_SERIES_DAYS }, (_, i) => ({ date: isoDay(from + i), count: counts.get(from + i) ?? 0 }));
  }
}
