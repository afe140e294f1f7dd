import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

/**
 * /metrics across cluster workers. A scrape lands on one worker, but its
 * counters are only that worker's share; the worker asks the primary, which
 * collects every worker's registry (prom-client's AggregatorRegistry, over
 * the cluster IPC channel) and answers with the sum.
 */
const REQUEST = 'berth:metrics-request';
const RESPONSE = 'berth:metrics-response';

interface MetricsRequest {
  type: typeof REQUEST;
  id: number;
}
interface MetricsResponse {
  type: typeof RESPONSE;
  id: number;
  text?: string;
  error?: string;
}

/** In a worker: offer `registry` to the primary's aggregation; returns the `gather` for createHttpMetrics. */
export function workerMetricsGather(registry: Registry, timeoutMs = 5_000): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one is what installs prom-client's worker-side listener that answers the primary.
  new AggregatorRegistry();
  let nextId = 1;
  const pending = new Map<number, { resolve(text: string): void; reject(err: Error): void; timer: NodeJS.Timeout }>();
  process.on('message', (message: unknown) => {
    if (!isMessage<MetricsResponse>(message, RESPONSE)) return;
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    clearTimeout(waiter.timer);
    if (message.text !== undefined) waiter.resolve(message.text);
    else waiter.reject(new Error(`metrics from the primary: ${message.error ?? 'no answer'}`));
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('the cluster primary did not answer for metrics in time'));
      }, timeoutMs);
      timer.unref();
      pending.set(id, { resolve, reject, timer });
      const request: MetricsRequest = { type: REQUEST, id };
      process.send?.(request);
    });
}

/** In the primary: answers workers' metrics requests with the cluster-wide sum. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isMessage<MetricsRequest>(message, REQUEST)) return;
    const reply = (response: MetricsResponse) => {
      if (worker.isConnected()) worker.send(response);
    };
    aggregator.clusterMetrics().then(
      (text) => reply({ type: RESPONSE, id: message.id, text }),
      (err: unknown) => reply({ type: RESPONSE, id: message.id, error: (err as Error).message }),
    );
  });
}

function isMessage<T extends { type: string }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}
