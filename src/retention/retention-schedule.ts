import { scheduleLeasedRuns } from '../cluster/leased-schedule';
import type { Logger } from '../log';
import { RetentionRunning } from './errors';
import type { RetentionRunner } from './retention-runner';

/** Applies every retention policy every `intervalHours` in the background (0: never); one run at a time by its lease. */
export function scheduleRetention(runner: RetentionRunner | undefined, intervalHours: number, log: Logger): { stop(): void } {
  if (!runner) return { stop: () => undefined };
  return scheduleLeasedRuns(
    'retention',
    () => runner.run({}, { dryRun: false }),
    intervalHours,
    (err) => err instanceof RetentionRunning,
    log,
  );
}
