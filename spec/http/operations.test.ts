import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import express from 'express';
import request from 'supertest';
import { createLogger } from '../../src/log';
import { createHttpMetrics, routeLabel } from '../../src/http/metrics';
import { readinessHandler } from '../../src/http/readiness';
import { requestContext } from '../../src/http/middleware/request-context';
import { createRegistry } from '../../src/composition-root';
import { blob, EMPTY_CONFIG, imageManifest, descriptor } from '../support/oci';
import { pushBlob, pushManifest } from '../support/http';
import { startTestRegistry, testConfig, type TestRegistry } from '../support/registry';
import { requiredEnv, testS3Settings } from '../support/scale-out';
import { MediaType } from '../../src/oci/media-types';

describe('GET /readyz', () => {
  let t: TestRegistry;
  beforeEach(async () => {
    t = await startTestRegistry();
  });
  afterEach(() => t.close());

  it('is 200 with every check of its stores ok (Redis only when it holds the upload sessions)', async () => {
    const res = await t.http.get('/readyz').expect(200);
    const redis = t.config.redis ? { redis: 'ok' } : {};
    expect(res.body).toEqual({ status: 'ready', checks: { ...redis, 'blob-storage': 'ok', 'metadata-db': 'ok' } });
  });

  it('probes Redis, S3 and the database when scaled out', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'berth-readyz-'));
    const registry = await createRegistry(
      testConfig(dataDir, {
        redis: { url: requiredEnv('REDIS_URL'), keyPrefix: `readyz-${randomUUID()}:` },
        s3: testS3Settings(`readyz-${randomUUID()}/`),
      }),
      createLogger('silent'),
    );
    try {
      const res = await request(registry.app).get('/readyz').expect(200);
      expect(res.body.checks).toEqual({ redis: 'ok', 'blob-storage': 'ok', 'metadata-db': 'ok' });
    } finally {
      await registry.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('readinessHandler', () => {
  const app = (probes: Array<{ name: string; probe(): Promise<void> }>, timeoutMs?: number) => {
    const a = express();
    a.use(requestContext(createLogger('silent')));
    a.get('/readyz', readinessHandler(probes, timeoutMs));
    return a;
  };

  it('names each failed check and keeps the others ok', async () => {
    const res = await request(
      app([
        { name: 'redis', probe: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')) },
        { name: 'blob-storage', probe: async () => undefined },
      ]),
    )
      .get('/readyz')
      .expect(503);
    expect(res.body).toEqual({
      status: 'unavailable',
      failed: ['redis'],
      checks: { redis: 'connect ECONNREFUSED 127.0.0.1:1', 'blob-storage': 'ok' },
    });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('counts a probe that hangs as failed after its time bound', async () => {
    const started = Date.now();
    const res = await request(app([{ name: 'metadata-db', probe: () => new Promise<void>(() => undefined) }], 200))
      .get('/readyz')
      .expect(503);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(res.body.failed).toEqual(['metadata-db']);
    expect(res.body.checks['metadata-db']).toMatch(/within 200 ms/);
  });
});

describe('GET /metrics', () => {
  let t: TestRegistry;
  beforeEach(async () => {
    t = await startTestRegistry();
  });
  afterEach(() => t.close());

  const scrape = async () => {
    const res = await t.http.get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text;
  };
  const value = (text: string, series: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? NaN : Number(line.slice(series.length + 1));
  };

  it('counts requests by route name, method and status, never by path', async () => {
    const layer = blob('a layer for the metrics');
    await pushBlob(t.http, 'team/app', layer);
    await pushBlob(t.http, 'team/app', EMPTY_CONFIG);
    await pushManifest(
      t.http,
      'team/app',
      'v1',
      imageManifest({
        config: descriptor(EMPTY_CONFIG, MediaType.OCI_CONFIG),
        layers: [descriptor(layer, 'application/vnd.oci.image.layer.v1.tar')],
      }),
    );
    await t.http.get(`/v2/team/app/blobs/${layer.digest}`).expect(200);
    await t.http.get(`/v2/other/repo/blobs/${layer.digest}`).expect(404);
    await t.http.get('/v2/team/app/manifests/v1').expect(200);
    await t.http.get('/no/such/path').expect(404);

    const text = await scrape();
    expect(value(text, 'berth_http_requests_total{route="blob",method="GET",status="200"}')).toBe(1);
    expect(value(text, 'berth_http_requests_total{route="blob",method="GET",status="404"}')).toBe(1);
    expect(value(text, 'berth_http_requests_total{route="manifest",method="PUT",status="201"}')).toBe(1);
    expect(value(text, 'berth_http_requests_total{route="uploads",method="POST",status="201"}')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'berth_http_requests_total{route="unmatched",method="GET",status="404"}')).toBe(1);
    expect(value(text, 'berth_http_request_duration_seconds_count{route="blob",method="GET",status="200"}')).toBe(1);
    expect(text).toMatch(/berth_http_request_duration_seconds_bucket\{le="0.005",route="blob",method="GET",status="200"\} \d/);
    // No repository name, digest or raw path ever becomes a label value.
    expect(text).not.toContain('team/app');
    expect(text).not.toContain(layer.digest);
    expect(text).not.toContain('/no/such/path');
  });

  it('counts bytes in and out by route', async () => {
    const content = Buffer.alloc(200_000, 7);
    const layer = blob(content);
    await pushBlob(t.http, 'team/bytes', layer);
    await t.http.get(`/v2/team/bytes/blobs/${layer.digest}`).expect(200);
    const text = await scrape();
    expect(value(text, 'berth_http_request_bytes_total{route="uploads"}')).toBeGreaterThanOrEqual(content.length);
    expect(value(text, 'berth_http_response_bytes_total{route="blob"}')).toBeGreaterThanOrEqual(content.length);
    expect(value(text, 'berth_http_response_bytes_total{route="uploads"}')).toBeLessThan(2_000);
  });

  it('shows uploads in progress while a chunk streams, and none after', async () => {
    const started = await t.http.post('/v2/team/gauge/blobs/uploads/').expect(202);
    const location = started.headers.location as string;
    // A chunk sent through a real socket, held open while the gauge is read.
    const http = await import('node:http');
    const listener = http.createServer(t.registry.app);
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', () => resolve()));
    const port = (listener.address() as import('node:net').AddressInfo).port;
    try {
      const chunk = http.request({
        host: '127.0.0.1',
        port,
        method: 'PATCH',
        path: location,
        headers: { 'Content-Type': 'application/octet-stream' },
      });
      const answered = new Promise<number>((resolve, reject) => {
        chunk.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        chunk.on('error', reject);
      });
      chunk.write(Buffer.alloc(1024, 1));
      let during = NaN;
      for (let i = 0; i < 50 && !(during >= 1); i++) {
        during = value(await scrape(), 'berth_uploads_in_progress');
        if (!(during >= 1)) await new Promise((r) => setTimeout(r, 20));
      }
      expect(during).toBe(1);
      chunk.end(Buffer.alloc(1024, 2));
      expect(await answered).toBe(202);
      expect(value(await scrape(), 'berth_uploads_in_progress')).toBe(0);
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
  });

  it('includes process metrics', async () => {
    const text = await scrape();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('process_resident_memory_bytes');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });
});

describe('routeLabel', () => {
  it.each([
    ['/v2/', 'base'],
    ['/v2/_catalog', 'catalog'],
    ['/v2/a/b/c/tags/list', 'tags'],
    ['/v2/a/manifests/latest', 'manifest'],
    ['/v2/a/blobs/uploads/', 'uploads'],
    ['/v2/a/blobs/uploads/0b7c', 'upload'],
    ['/v2/a/blobs/sha256:00', 'blob'],
    ['/v2/a/referrers/sha256:00', 'referrers'],
    ['/healthz', 'healthz'],
    ['/readyz', 'readyz'],
    ['/metrics', 'metrics'],
    ['/token', 'token'],
    ['/api/v1/users/alice', 'api'],
    ['/v2/nothing-here', 'unmatched'],
    ['/favicon.ico', 'unmatched'],
  ])('%s is %s', (p, label) => {
    expect(routeLabel(p)).toBe(label);
  });

  it('keeps metric sets of two apps apart', () => {
    expect(createHttpMetrics({ processMetrics: false }).registry).not.toBe(createHttpMetrics({ processMetrics: false }).registry);
  });
});

describe('request ids in log lines', () => {
  it('every line written while serving a request carries its id, service lines included', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const log = createLogger('info', sink);
    const a = express();
    a.use(requestContext(log));
    a.get('/x', async (req, res) => {
      req.log.info('from the handler');
      await new Promise((r) => setTimeout(r, 5));
      log.warn('from a service holding the root logger');
      res.status(204).end();
    });
    await request(a).get('/x').set('X-Request-Id', 'req-123').expect(204);
    await new Promise((r) => setTimeout(r, 20));
    log.info('outside any request');
    const inRequest = lines.filter((l) => l.msg !== 'outside any request');
    expect(inRequest.map((l) => l.msg).sort()).toEqual(['from a service holding the root logger', 'from the handler', 'request']);
    for (const l of inRequest) expect(l.requestId).toBe('req-123');
    expect(lines.find((l) => l.msg === 'outside any request')?.requestId).toBeUndefined();
  });
});
