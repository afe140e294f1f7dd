import type { Socket } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { matchRoute } from './routes';

/**
 * Prometheus metrics for one app. Requests are labelled by the route
 * table's names (`blob`, `upload`, `manifest`…) or a fixed name for the
 * few routes outside /v2, never by path: repository names, digests and
 * upload ids would give every request a series of its own.
 *
 *   berth_http_requests_total{route,method,status}
 *   berth_http_request_duration_seconds{route,method,status}   histogram, until the response is done
 *   berth_http_request_bytes_total{route}    bytes read from the client (request line, headers, body)
 *   berth_http_response_bytes_total{route}   bytes written to the client
 *   berth_http_requests_in_flight
 *   berth_uploads_in_progress                upload requests streaming a body into an upload on this replica
 *   berth_upload_rehashed_bytes_total        staged upload bytes read back from storage to rebuild a running digest
 *   berth_upload_followed_bytes_total        bytes of uploads the cluster primary's hash follower read to hash them (once each)
 *   berth_gc_runs_total                      garbage collections run in this process (dry runs not counted)
 *   berth_gc_reclaimed_objects_total         storage objects garbage collection deleted
 *   berth_gc_reclaimed_bytes_total           their bytes
 *   berth_gc_purged_manifests_total          manifests removed for good past their restore window
 *   berth_proxy_pulls_total{kind,result}     pulls through a pull-through cache: kind manifest|blob, result hit|miss
 *   berth_proxy_upstream_bytes_total         bytes read from pull-through caches' upstreams
 *   process_* and nodejs_*                   prom-client's default process metrics
 */
export interface HttpMetrics {
  registry: Registry;
  /** Counts and times every request; mount first, before any route. */
  middleware(): (req: Request, res: Response, next: NextFunction) => void;
  /** GET /metrics in the Prometheus text format. */
  handler(): (req: Request, res: Response) => Promise<void>;
  /** Counts staged bytes read back to rebuild an upload's digest: ideally none, a chunk's worth at most. */
  countRehashedBytes(bytes: number): void;
  /** Bytes the cluster primary's hash follower read for an upload whose digest it answered (each byte once). */
  countFollowedBytes(bytes: number): void;
  /** Counts what a garbage collection run (not a dry one) reclaimed. */
  countCollected(reclaimed: { objects: number; bytes: number; manifests: number }): void;
  /** A pull through a pull-through cache, served from what Berth holds (hit) or fetched upstream (miss). */
  countProxyPull(kind: 'manifest' | 'blob', result: 'hit' | 'miss'): void;
  /** Bytes read from a pull-through cache's upstream. */
  countProxyBytes(bytes: number): void;
}

/** Route labels outside the v2 table. Anything else is `unmatched`. */
const OTHER_ROUTES: ReadonlyArray<[RegExp, string]> = [
  [/^\/healthz$/, 'healthz'],
  [/^\/readyz$/, 'readyz'],
  [/^\/metrics$/, 'metrics'],
  [/^\/token$/, 'token'],
  [/^\/api\/v1(\/|$)/, 'api'],
];

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Seconds; chunk uploads of several GiB legitimately take minutes. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export function routeLabel(path: string): string {
  if (path === '/v2' || path.startsWith('/v2/')) {
    return matchRoute(path.slice('/v2/'.length))?.route ?? 'unmatched';
  }
  for (const [pattern, name] of OTHER_ROUTES) if (pattern.test(path)) return name;
  return 'unmatched';
}

/** Whether the request streams bytes into an upload (a chunk, a last chunk, or a monolithic POST). */
function isUploadWrite(route: string, req: Request): boolean {
  if (route === 'upload') return req.method === 'PATCH' || req.method === 'PUT';
  return route === 'uploads' && req.method === 'POST' && req.query.digest !== undefined;
}

export interface HttpMetricsOptions {
  processMetrics?: boolean;
  /** Where /metrics gets its text when this registry is one of several (cluster workers: from the primary, summed). */
  gather?: () => Promise<string>;
}

export function createHttpMetrics(options: HttpMetricsOptions = {}): HttpMetrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const labelNames = ['route', 'method', 'status'] as const;
  const requests = new Counter({
    name: 'berth_http_requests_total',
    help: 'HTTP requests answered, by route name, method and status',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'berth_http_request_duration_seconds',
    help: 'Time from the request arriving to its response being done, by route name, method and status',
    labelNames,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const bytesIn = new Counter({
    name: 'berth_http_request_bytes_total',
    help: 'Bytes read from clients (request line, headers and body), by route name',
    labelNames: ['route'],
    registers: [registry],
  });
  const bytesOut = new Counter({
    name: 'berth_http_response_bytes_total',
    help: 'Bytes written to clients (status line, headers and body), by route name',
    labelNames: ['route'],
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'berth_http_requests_in_flight',
    help: 'HTTP requests being served',
    registers: [registry],
  });
  const uploading = new Gauge({
    name: 'berth_uploads_in_progress',
    help: 'Requests streaming data into a blob upload on this replica',
    registers: [registry],
  });

  const rehashed = new Counter({
    name: 'berth_upload_rehashed_bytes_total',
    help: 'Staged upload bytes read back from storage to rebuild a running digest (a process that could not continue the saved one)',
    registers: [registry],
  });

  const followed = new Counter({
    name: 'berth_upload_followed_bytes_total',
    help: "Bytes of uploads whose digest the cluster primary's hash follower answered, read by it once from the staging disk",
    registers: [registry],
  });

  const gcRuns = new Counter({
    name: 'berth_gc_runs_total',
    help: 'Garbage collections run (dry runs not counted)',
    registers: [registry],
  });
  const gcObjects = new Counter({
    name: 'berth_gc_reclaimed_objects_total',
    help: 'Storage objects deleted by garbage collection',
    registers: [registry],
  });
  const gcBytes = new Counter({ name: 'berth_gc_reclaimed_bytes_total', help: 'Bytes garbage collection freed', registers: [registry] });
  const gcManifests = new Counter({
    name: 'berth_gc_purged_manifests_total',
    help: 'Manifests removed for good past their restore window',
    registers: [registry],
  });
  const proxyPulls = new Counter({
    name: 'berth_proxy_pulls_total',
    help: 'Pulls through a pull-through cache: served from what Berth holds (hit) or fetched from the upstream (miss)',
    labelNames: ['kind', 'result'],
    registers: [registry],
  });
  const proxyBytes = new Counter({
    name: 'berth_proxy_upstream_bytes_total',
    help: "Bytes read from pull-through caches' upstreams",
    registers: [registry],
  });

  /** Per connection, its byte counters as far as earlier requests have been charged with them. */
  const accounted = new WeakMap<Socket, { read: number; written: number }>();

  return {
    registry,
    middleware() {
      return (req, res, next) => {
        const route = routeLabel(req.path);
        const method = METHODS.has(req.method) ? req.method : 'OTHER';
        const socket = req.socket;
        const upload = isUploadWrite(route, req);
        const stopTimer = duration.startTimer();
        inFlight.inc();
        if (upload) uploading.inc();
        res.once('close', () => {
          const labels = { route, method, status: String(res.statusCode) };
          requests.inc(labels);
          stopTimer(labels);
          // A connection serves one request at a time: what its counters grew by since the
          // previous request on it was accounted belongs to this one. (The first read can hold
          // body bytes along with the headers, so a snapshot taken here at the start would miss them.)
          const seen = accounted.get(socket) ?? { read: 0, written: 0 };
          bytesIn.inc({ route }, Math.max(0, socket.bytesRead - seen.read));
          bytesOut.inc({ route }, Math.max(0, socket.bytesWritten - seen.written));
          accounted.set(socket, { read: socket.bytesRead, written: socket.bytesWritten });
          inFlight.dec();
          if (upload) uploading.dec();
        });
        next();
      };
    },
    countRehashedBytes(bytes) {
      rehashed.inc(bytes);
    },
    countFollowedBytes(bytes) {
      followed.inc(bytes);
    },
    countCollected({ objects, bytes, manifests }) {
      gcRuns.inc();
      gcObjects.inc(objects);
      gcBytes.inc(bytes);
      gcManifests.inc(manifests);
    },
    countProxyPull(kind, result) {
      proxyPulls.inc({ kind, result });
    },
    countProxyBytes(bytes) {
      proxyBytes.inc(bytes);
    },
    handler() {
      return async (_req, res) => {
        const text = options.gather ? await options.gather() : await registry.metrics();
        res.status(200).set('Cache-Control', 'no-store').type(registry.contentType).send(text);
      };
    },
  };
}

/** A registry's metrics as JSON, and the sum of several such sets (one per cluster worker) as Prometheus text. */
export function clusterMetricsSource(registry: Registry): { json(): Promise<unknown[]>; aggregate(parts: unknown[][]): Promise<string> } {
  return {
    json: () => registry.getMetricsAsJSON(),
    aggregate: (parts) => AggregatorRegistry.aggregate(parts).metrics(),
  };
}
