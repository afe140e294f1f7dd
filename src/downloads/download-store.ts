/** Downloads of one manifest (a version) on one UTC day: what a flush adds. */
export interface DownloadIncrement {
  repository: string;
  digest: string;
  /** UTC days since the epoch (see utcDay). */
  day: number;
  count: number;
}

export interface DailyCount {
  day: number;
  count: number;
}

/**
 * Download counts per (repository, digest): a daily row for each day with
 * downloads, kept for the configured retention, and an all-time total kept
 * for good. Every write adds, so any number of processes may flush their own
 * increments into one database without coordination.
 */
export interface DownloadStore {
  /**
   * Adds the counts in one transaction: one upsert-add per daily row and one per
   * total. Rows must be distinct by (repository, digest, day).
   */
  add(increments: readonly DownloadIncrement[]): Promise<void>;
  /** All-time totals by digest: those of `digests` (missing ones have none), or every digest of the repository. */
  versionTotals(repository: string, digests?: readonly string[]): Promise<Map<string, number>>;
  /** The all-time total of every digest of the repository. */
  packageTotal(repository: string): Promise<number>;
  /** Counts from `fromDay` to `toDay` inclusive, oldest first, of the repository or one of its digests; days without downloads are absent. */
  daily(repository: string, fromDay: number, toDay: number, digest?: string): Promise<DailyCount[]>;
  /** Deletes at most `limit` daily rows older than `beforeDay` (totals stay); how many it deleted. */
  pruneDaily(beforeDay: number, limit: number): Promise<number>;
}

const DAY_MS = 86_400_000;

/** The UTC day of a time, as days since the epoch. */
export function utcDay(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** `YYYY-MM-DD` of a UTC day. */
export function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}
