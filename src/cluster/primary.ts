import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../log';
import { FsBlobStore } from '../storage/fs/fs-blob-store';
import { forkBackgroundWorker, relayBackgroundKicks } from './background-worker';
import { serveUploadHashFollower } from './hash-follower-relay';
import { relayClusterMetrics } from './metrics-relay';
import { UploadHashFollower } from './upload-hash-follower';

/** Crashes tolerated in CRASH_WINDOW_MS before the primary gives up instead of restarting workers forever. */
const MAX_CRASHES = 5;
const CRASH_WINDOW_MS = 60_000;
const RESTART_DELAY_MS = 1_000;

export interface ClusterOptions {
  workers: number;
  /** What a worker gets to finish in-flight requests on shutdown, before the primary kills it. */
  shutdownGraceSeconds: number;
  /** Follow the hashes of uploads staged under this filesystem store root (upload-hash-follower.ts). */
  hashFollower?: { storageRoot: string; idleMs: number };
  /** Fork a background worker beside the serving ones (background-worker.ts). */
  background: boolean;
}

/**
 * How connections reach the workers. Node's default on Linux is round robin: the primary accepts every connection
 * and passes it to a worker over IPC. Berth lets each worker accept from the shared socket instead, unless
 * NODE_CLUSTER_SCHED_POLICY says otherwise: with a new connection per request (wrk without keep-alive, 64
 * connections, quiet machine) manifest GETs went from 3484-3536 to 4917-5179 a second (Distribution 3: 4279-4620;
 * on PostgreSQL 2120 -> 2946), at 0.91-0.97 of round robin's rate on kept-alive connections. Sequential connections
 * still reach both workers (about 80/20, a third of them on the other worker than the one before), so uploads keep
 * moving between workers and the hash follower keeps its job.
 */
function schedulingPolicyFor(env: NodeJS.ProcessEnv): typeof cluster.schedulingPolicy {
  return env.NODE_CLUSTER_SCHED_POLICY === 'rr' ? cluster.SCHED_RR : cluster.SCHED_NONE;
}

/**
 * The cluster primary: forks the workers that serve requests (they share
 * the listening socket, schedulingPolicyFor), restarts a worker that dies, and on SIGTERM/SIGINT lets each
 * worker shut down gracefully. It loads none of the registry itself.
 *
 * Workers share the embedded state as replicas do: one SQLite file in WAL
 * mode, upload sessions and their locks in it (a dead worker's lock is
 * recognised at once: same host, pid gone), blobs committed by rename.
 * The primary loads none of the registry (its memory counts in the total)
 * but the hash follower of uploads staged on the filesystem: a chunk lands
 * on any worker, and one native hash per upload continues here.
 *
 * Once every serving worker listens, the background worker is forked (it needs the migrations the first worker ran);
 * it is restarted like a serving worker when it dies.
 *
 * Resolves with the exit code once every worker has stopped.
 */
export function runPrimary(options: ClusterOptions, log: Logger): Promise<number> {
  relayClusterMetrics();
  if (options.hashFollower) {
    const store = new FsBlobStore(options.hashFollower.storageRoot);
    const follower = new UploadHashFollower((id, end, start) => store.readUpload(id, end, start), options.hashFollower.idleMs);
    serveUploadHashFollower(follower);
  }
  return new Promise((resolve) => {
    let stopping = false;
    let started = false;
    let exitCode = 0;
    const crashes: number[] = [];
    const listening = new Set<number>();

    // Smaller young-generation semi-spaces than V8's default (16 MiB): the hot paths allocate
    // short-lived objects only, and each worker's peak RSS drops by 15-20 MiB at no measured
    // cost in throughput (conformance/bench). A flag the operator gave wins.
    const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
    const execArgv = given.some((a) => a.startsWith('--max-semi-space-size'))
      ? process.execArgv
      : [...process.execArgv, '--max-semi-space-size=4'];
    cluster.schedulingPolicy = schedulingPolicyFor(process.env);
    cluster.setupPrimary({ execArgv });
    const fork = () => cluster.fork();
    let background: Worker | undefined;
    const forkBackground = () => {
      background = forkBackgroundWorker();
    };
    if (options.background) relayBackgroundKicks(() => background);
    const stopAll = (code: number) => {
      if (stopping) return;
      stopping = true;
      exitCode = code;
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      if (workers.length === 0) resolve(exitCode);
      for (const w of workers) w.process.kill('SIGTERM');
      const deadline = setTimeout(
        () => {
          for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
        },
        (options.shutdownGraceSeconds + 10) * 1000,
      );
      deadline.unref();
    };

    cluster.on('listening', (worker, address) => {
      listening.add(worker.id);
      if (!started && listening.size < options.workers) {
        fork();
        return;
      }
      if (!started && listening.size === options.workers) {
        started = true;
        const host = address.address ?? '127.0.0.1';
        const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
        log.info({ url, workers: options.workers }, 'berth is serving');
        if (options.background) forkBackground();
      }
    });

    cluster.on('exit', (worker, code, signal) => {
      listening.delete(worker.id);
      // The others still alive; not relying on Node having removed this one from the list yet.
      const left = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined && w !== worker && !w.isDead()).length;
      if (stopping) {
        if (left === 0) resolve(exitCode);
        return;
      }
      if (!started) {
        // A worker that cannot start (a taken port, a bad data directory) will not do better on retry.
        log.error({ worker: worker.process.pid, code, signal }, 'a worker failed to start; stopping');
        stopAll(1);
        if (left === 0) resolve(exitCode);
        return;
      }
      const now = Date.now();
      crashes.push(now);
      while (crashes.length > 0 && (crashes[0] ?? now) < now - CRASH_WINDOW_MS) crashes.shift();
      if (crashes.length > MAX_CRASHES) {
        log.error({ crashes: crashes.length }, 'workers keep crashing; stopping');
        stopAll(1);
        if (left === 0) resolve(exitCode);
        return;
      }
      log.error(
        { worker: worker.process.pid, code, signal, role: worker === background ? 'background' : 'serving' },
        'a worker died; starting another',
      );
      // Not unref'd: when every worker died at once, this timer is all that keeps the primary
      // alive (the shared listening handle closes with the last worker), and an unref'd one let
      // it exit 0 without restarting anything.
      const restart = worker === background ? forkBackground : fork;
      setTimeout(() => {
        if (!stopping) restart();
      }, RESTART_DELAY_MS);
    });

    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.on(signal, () => {
        log.info({ signal }, 'shutting down');
        stopAll(0);
      });
    }
    // One at a time at first: the first worker alone runs the one-time steps of a start (schema
    // migrations, the first admin user with its password printed once, the first signing key).
    fork();
  });
}
