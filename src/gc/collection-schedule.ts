import type { Logger } from '../log';
import { databaseFault } from '../persistence/database-faults';
import type { GarbageCollector } from './collector';
import { CollectionRunning } from './errors';

/**
 * Runs the collector every `intervalHours` in the background (0: never). Every process schedules it; the lease
 * lets one run at a time, and a process that finds it held skips that turn.
 */
export function scheduleCollection(collector: GarbageCollector, intervalHours: number, log: Logger): { stop(): void } {
  if (intervalHours <= 0) return { stop: () => undefined };
  let running = false;
  const tick = () => {
    if (running) return;
    running = true;
    collector
      .collect()
      .catch((err: unknown) => {
        if (err instanceof CollectionRunning) log.debug('garbage collection skipped: another collector is running');
        else if (databaseFault(err)) log.warn({ err }, 'garbage collection failed');
        else log.error({ err }, 'garbage collection failed');
      })
      .finally(() => (running = false));
  };
  const timer = setInterval(tick, intervalHours * 3_600_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
