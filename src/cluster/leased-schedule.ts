import type { Logger } from '../log';
import { databaseFault } from '../persistence/database-faults';

/**
 * Runs `run` every `intervalHours` in the background (0: never). Every process schedules it; a lease in the
 * database lets one run at a time, and a process that finds it held (`busy(err)`) skips that turn quietly.
 */
export function scheduleLeasedRuns(
  what: string,
  run: () => Promise<unknown>,
  intervalHours: number,
  busy: (err: unknown) => boolean,
  log: Logger,
): { stop(): void } {
  if (intervalHours <= 0) return { stop: () => undefined };
  let running = false;
  const tick = () => {
    if (running) return;
    running = true;
    run()
      .catch((err: unknown) => {
        if (busy(err)) log.debug(`${what} skipped: another process is running it`);
        else if (databaseFault(err)) log.warn({ err }, `${what} failed`);
        else log.error({ err }, `${what} failed`);
      })
      .finally(() => (running = false));
  };
  const timer = setInterval(tick, intervalHours * 3_600_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
