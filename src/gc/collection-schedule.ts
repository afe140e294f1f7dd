import { scheduleLeasedRuns } from '../cluster/leased-schedule';
import type { Logger } from '../log';
import type { GarbageCollector } from './collector';
import { CollectionRunning } from './errors';

/** Runs the collector every `intervalHours` in the background (0: never); one at a time by its lease. */
export function scheduleCollection(collector: GarbageCollector, intervalHours: number, log: Logger): { stop(): void } {
  return scheduleLeasedRuns(
    'garbage collection',
    () => collector.collect(),
    intervalHours,
    (err) => err instanceof CollectionRunning,
    log,
  );
}
