import type { Logger } from '../log';
import { utcDay, type DownloadIncrement, type DownloadStore } from './download-store';
import { databaseFault } from '../persistence/database-faults';

export interface DownloadCounterOptions {
  /** How often pending counts are written. */
  flushIntervalMs: number;
  /**
   * The most distinct (repository, digest, day) keys held in memory. While the
   * database is unreachable counts pile up here; past this bound downloads of
   * keys not yet held are dropped (and logged) rather than growing without end.
   */
  maxPendingKeys: number;
  now?: () => number;
}

/**
 * Counts manifest downloads in memory and writes them in batches: one
 * upsert-add per (repository, digest, day) per flush, every few seconds and
 * at close. A pull never waits on the database and a failed flush never
 * fails a pull: the batch goes back into memory and the next flush retries
 * it. Each process (cluster worker, replica) flushes its own increments;
 * the store only ever adds, so they sum correctly in the shared database.
 */
export class DownloadCounter {
  private pending = new Map<string, DownloadIncrement>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | null = null;
  private dropped = 0;
  private readonly now: () => number;

  constructor(
    private readonly store: DownloadStore,
    private readonly log: Logger,
    private readonly options: DownloadCounterOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** One download of `digest` in `repository`: a map update, nothing more. */
  count(repository: string, digest: string): void {
    this.add({ repository, digest, day: utcDay(this.now()), count: 1 });
  }

  /** Downloads counted and not yet written. */
  get pendingCount(): number {
    let n = 0;
    for (const i of this.pending.values()) n += i.count;
    return n;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.options.flushIntervalMs);
    // The timer alone must not keep a process alive; close() writes what is left.
    this.timer.unref();
  }

  /** Writes what is pending; resolves when written or put back after a failure (logged, never thrown). */
  flush(): Promise<void> {
    // One flush at a time: a slow database must not stack flushes that add the same batch twice.
    this.flushing ??= this.write().finally(() => (this.flushing = null));
    return this.flushing;
  }

  /** Stops the timer and writes what is left (waiting for a flush in progress first). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flushing;
    await this.flush();
  }

  private async write(): Promise<void> {
    if (this.dropped > 0) {
      this.log.warn({ dropped: this.dropped }, 'download counts dropped: too many pending while flushes failed');
      this.dropped = 0;
    }
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    try {
      await this.store.add(batch);
    } catch (err) {
      // A database that is down or restarting is expected now and then (the counts wait for it): a warning.
      // Anything else is a fault to look into, though the counts still wait.
      const level = databaseFault(err) ? 'warn' : 'error';
      this.log[level]({ err, pending: batch.length }, 'writing download counts failed; retrying at the next flush');
      for (const increment of batch) this.add(increment);
    }
  }

  private add(increment: DownloadIncrement): void {
    const key = `${increment.repository}\0${increment.digest}\0${increment.day}`;
    const held = this.pending.get(key);
    if (held) held.count += increment.count;
    else if (this.pending.size < this.options.maxPendingKeys) this.pending.set(key, { ...increment });
    else this.dropped += increment.count;
  }
}
