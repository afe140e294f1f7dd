import cluster, { type Worker } from 'node:cluster';
import { isMessage } from './messages';

/**
 * /metrics across cluster workers. A scrape lands on one worker, but its
 * counters are only that worker's share. The worker asks the primary, which
 * asks every worker for its metrics as JSON and hands the set back; the
 * asking worker sums them (prom-client's AggregatorRegistry.aggregate). The
 * primary only relays messages: it loads no metrics code of its own.
 */
const ASK = 'berth:metrics-ask';
const COLLECT = 'berth:metrics-collect';
const COLLECTED = 'berth:metrics-collected';
const ANSWER = 'berth:metrics-answer';

/** Metrics of one registry as prom-client's getMetricsAsJSON gives them (opaque here). */
type MetricsJson = unknown[];

interface Ask {
  type: typeof ASK;
  id: number;
}
interface Collect {
  type: typeof COLLECT;
  round: number;
}
interface Collected {
  type: typeof COLLECTED;
  round: number;
  metrics: MetricsJson;
}
interface Answer {
  type: typeof ANSWER;
  id: number;
  parts: MetricsJson[];
}

/** What a worker needs of its registry: its metrics as JSON, and the summing of several such sets. */
export interface WorkerMetricsSource {
  json(): Promise<MetricsJson>;
  aggregate(parts: MetricsJson[]): Promise<string>;
}

/** In a worker: answers the primary's collection rounds; returns the `gather` for createHttpMetrics. */
export function workerMetricsGather(source: WorkerMetricsSource, timeoutMs = 5_000): () => Promise<string> {
  let nextId = 1;
  const pending = new Map<number, { resolve(parts: MetricsJson[]): void; timer: NodeJS.Timeout }>();
  process.on('message', (message: unknown) => {
    if (isMessage<Collect>(message, COLLECT)) {
      source.json().then(
        (metrics) => send<Collected>({ type: COLLECTED, round: message.round, metrics }),
        () => send<Collected>({ type: COLLECTED, round: message.round, metrics: [] }),
      );
      return;
    }
    if (isMessage<Answer>(message, ANSWER)) {
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      clearTimeout(waiter.timer);
      waiter.resolve(message.parts);
    }
  });
  return async () => {
    const parts = await new Promise<MetricsJson[]>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('the cluster primary did not answer for metrics in time'));
      }, timeoutMs);
      timer.unref();
      pending.set(id, { resolve, timer });
      send<Ask>({ type: ASK, id });
    });
    return source.aggregate(parts);
  };
}

/** In the primary: collects every live worker's metrics for the worker that asked. */
export function relayClusterMetrics(timeoutMs = 4_000): void {
  let nextRound = 1;
  const rounds = new Map<number, { parts: MetricsJson[]; waiting: Set<number>; done(): void }>();
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (isMessage<Collected>(message, COLLECTED)) {
      const round = rounds.get(message.round);
      if (!round || !round.waiting.delete(worker.id)) return;
      round.parts.push(message.metrics);
      if (round.waiting.size === 0) round.done();
      return;
    }
    if (!isMessage<Ask>(message, ASK)) return;
    const asker = worker;
    const id = message.id;
    const round = nextRound++;
    const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());
    const entry = {
      parts: [] as MetricsJson[],
      waiting: new Set(live.map((w) => w.id)),
      // A worker that dies mid-round is left out rather than holding the scrape up.
      done: () => {
        clearTimeout(timer);
        rounds.delete(round);
        if (asker.isConnected()) asker.send({ type: ANSWER, id, parts: entry.parts } satisfies Answer);
      },
    };
    rounds.set(round, entry);
    const timer = setTimeout(entry.done, timeoutMs);
    for (const w of live) w.send({ type: COLLECT, round } satisfies Collect);
  });
}

function send<T>(message: T): void {
  process.send?.(message);
}
