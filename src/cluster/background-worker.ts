import cluster, { type Worker } from 'node:cluster';
import { readdirSync } from 'node:fs';
import os from 'node:os';
import { isMessage } from './messages';

/**
 * A cluster's background worker: a process of its own, forked beside the serving workers, that accepts no
 * connections and runs the work no request waits for (the webhook relay and deliveries). Run in a serving worker,
 * that work took the event loop and the core a request was on: three hooks at a slow receiver took a serial
 * client's manifest PUTs from 490 to 358 a second (webhook bench, session 13), the serving worker's profile 4.0
 * against 3.0 ms of CPU a PUT.
 *
 * Serving workers tell it when there is work (a push, a ping) through the primary; it also polls on its own, so a
 * lost message delays work by a poll, never loses it (the work is in the database).
 */
const ROLE_VARIABLE = 'BERTH_CLUSTER_ROLE';
const BACKGROUND = 'background';
const KICK = 'berth:background-kick';

interface Kick {
  type: typeof KICK;
  job: string;
}

/** A serving worker's kicks of one job closer together than this are sent as one (a push every 2 ms at 500/s). */
const KICK_GAP_MS = 20;

/** Whether this process is the cluster's background worker. */
export function isBackgroundWorker(): boolean {
  return cluster.isWorker && process.env[ROLE_VARIABLE] === BACKGROUND;
}

/**
 * The background worker's nice value: when the serving workers want every core, the kernel gives them the CPU first
 * (a weight of 110 against 1024: background work still gets about a tenth of a contended core, so it is slowed, never
 * starved). Its work is durable in the database and waits well; requests do not.
 */
const BACKGROUND_NICE = 10;

/**
 * In the background worker: lowers the priority of each of its threads (on Linux a nice value is a thread's, and
 * threads started later inherit their starter's). Where the system refuses, the worker runs at normal priority.
 */
export function lowerBackgroundPriority(): void {
  let threads: number[] = [0];
  try {
    threads = readdirSync('/proc/self/task').map(Number);
  } catch {
    // Not Linux: the process's priority alone.
  }
  for (const thread of threads) {
    try {
      os.setPriority(thread, BACKGROUND_NICE);
    } catch {
      // Refused (a container without the capability to change it, a thread gone meanwhile).
    }
  }
}

/** In the primary: forks the background worker. */
export function forkBackgroundWorker(): Worker {
  return cluster.fork({ [ROLE_VARIABLE]: BACKGROUND });
}

/** In the primary: passes serving workers' kicks on to the background worker, when it runs. */
export function relayBackgroundKicks(background: () => Worker | undefined): void {
  cluster.on('message', (_worker, message: unknown) => {
    if (!isMessage<Kick>(message, KICK)) return;
    const target = background();
    if (target && target.isConnected()) target.send(message);
  });
}

/** In the background worker: `handler` hears each job kicked. */
export function onBackgroundKick(handler: (job: string) => void): void {
  process.on('message', (message: unknown) => {
    if (isMessage<Kick>(message, KICK)) handler(message.job);
  });
}

/**
 * In a serving worker: tells the background worker to look for `job`'s work now. The first kick goes at once; those
 * that follow within KICK_GAP_MS go as one at its end, so that the last push of a run is never left to the poll.
 */
export function backgroundKicker(): (job: string) => void {
  const windows = new Map<string, { again: boolean }>();
  const send = (job: string) => {
    if (process.connected) process.send?.({ type: KICK, job } satisfies Kick);
    const window = { again: false };
    windows.set(job, window);
    setTimeout(() => {
      windows.delete(job);
      if (window.again) send(job);
    }, KICK_GAP_MS).unref();
  };
  return (job) => {
    const window = windows.get(job);
    if (window) window.again = true;
    else send(job);
  };
}
