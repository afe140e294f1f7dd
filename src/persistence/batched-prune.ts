import type { Logger } from '../log';
import { databaseFault } from './database-faults';

/** Rows one prune statement deletes at most: short transactions, so writers never wait long behind a prune. */
export const PRUNE_BATCH_ROWS = 1000;

/**
 * Deletes expired rows in batches until a batch comes back short; returns
 * how many went. `deleteBatch(limit)` deletes at most `limit` rows.
 */
export async function pruneInBatches(deleteBatch: (limit: number) => Promise<number>, limit = PRUNE_BATCH_ROWS): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await deleteBatch(limit);
    total += deleted;
    if (deleted < limit) return total;
  }
}

/**
 * Runs `prune` every `intervalMs` (first soon after start) in the background:
 * failures are logged and retried at the next tick. Every process of a
 * deployment may run it; deletes of expired rows are idempotent.
 */
export function schedulePrune(what: string, intervalMs: number, prune: () => Promise<number>, log: Logger): { stop(): void } {
  let running = false;
  const tick = () => {
    if (running) return;
    running = true;
    prune()
      .then((n) => n > 0 && log.info({ pruned: n }, `pruned expired ${what}`))
      // Retried at the next tick: a database that is down for a while is a warning, anything else an error.
      .catch((err: unknown) =>
        databaseFault(err) ? log.warn({ err }, `pruning ${what} failed`) : log.error({ err }, `pruning ${what} failed`),
      )
      .finally(() => (running = false));
  };
  const first = setTimeout(tick, Math.min(intervalMs, 60_000));
  const timer = setInterval(tick, intervalMs);
  first.unref();
  timer.unref();
  return {
    stop() {
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}
