import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import request from 'supertest';
import { createLogger } from '../../src/log';
import { createRegistry, type Registry } from '../../src/composition-root';
import { pushImage, startUpload } from '../support/http';
import { testConfig } from '../support/registry';

const SERVICES = path.join(__dirname, '..', '..', 'conformance', 'services.sh');

/** A PostgreSQL server of this test's own (it is stopped mid-test), started and stopped by PID through services.sh. */
function startOwnPostgres(): { url: string; stop(): void } {
  const out = spawnSync('bash', ['-c', `set -e; . "${SERVICES}"; pg_start; printf '%s\\n%s\\n%s\\n' "$DATABASE_URL" "$PG_PID" "$PG_DIR"`], {
    env: { ...process.env, DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    timeout: 120_000,
  });
  const [url, pid, dir] = out.stdout.trim().split('\n');
  if (out.status !== 0 || !url || !pid || !dir) throw new Error(`pg_start failed (exit ${out.status})`);
  let stopped = false;
  return {
    url,
    stop() {
      if (stopped) return;
      stopped = true;
      spawnSync('bash', ['-c', `. "${SERVICES}"; pg_stop`], {
        env: { ...process.env, PG_PID: pid, PG_DIR: dir },
        stdio: 'inherit',
        timeout: 60_000,
      });
    },
  };
}

describe('the registry with DATABASE_URL', () => {
  let pg: ReturnType<typeof startOwnPostgres>;
  let registry: Registry | undefined;
  let dataDir: string;
  beforeAll(() => {
    pg = startOwnPostgres();
  });
  afterAll(() => pg.stop());
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'berth-pg-registry-'));
  });
  afterEach(async () => {
    await registry?.close();
    registry = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps the index and upload sessions in PostgreSQL, and no SQLite file in the data directory', async () => {
    registry = await createRegistry({ ...testConfig(dataDir), database: { url: pg.url } }, createLogger('silent'));
    const http = request(registry.app);
    const pushed = await pushImage(http, 'team/app', 'v1');
    const location = await startUpload(http, 'team/app');
    await http.patch(location).set('Content-Type', 'application/octet-stream').send(Buffer.from('half')).expect(202);

    const admin = new Pool({ connectionString: pg.url, max: 1 });
    try {
      const q = async (sql: string): Promise<unknown[]> => (await admin.query<Record<string, unknown>>(sql)).rows;
      expect(await q("SELECT r.name FROM repositories r WHERE r.name = 'team/app'")).toEqual([{ name: 'team/app' }]);
      expect(
        await q("SELECT t.name, t.manifest_digest FROM tags t JOIN repositories r ON r.id = t.repository_id WHERE r.name = 'team/app'"),
      ).toEqual([{ name: 'v1', manifest_digest: pushed.digest }]);
      expect(await q('SELECT digest FROM repository_blobs ORDER BY digest')).toEqual(
        [pushed.config.digest, pushed.layer.digest].sort().map((digest) => ({ digest })),
      );
      expect(
        await q('SELECT repository, CAST("offset" AS INTEGER) AS offset FROM upload_sessions WHERE repository = \'team/app\''),
      ).toEqual([{ repository: 'team/app', offset: 4 }]);
    } finally {
      await admin.end();
    }
    const got = await http.get('/v2/team/app/manifests/v1').expect(200);
    expect(got.headers['docker-content-digest']).toBe(pushed.digest);

    await registry.close();
    registry = undefined;
    // A host of a PostgreSQL deployment keeps no database file of its own.
    expect(readdirSync(dataDir).filter((f) => f.startsWith('berth.db'))).toEqual([]);
  });

  // Three replicas on one PostgreSQL, as on three hosts; the same seed makes every push share its
  // config and layer. One run measured 60 serialization failures, every one absorbed by a retry.
  // (Across processes they outlasted five immediate retries and answered 500; the retry's own
  // bound and pauses are tested in database.test.ts.)
  it('takes 36 concurrent pushes into different repositories over three replicas, every one 201 and pullable', async () => {
    const replicas = await Promise.all(
      [1, 2, 3].map(async (i) => {
        const dir = path.join(dataDir, `replica-${i}`);
        mkdirSync(dir);
        return createRegistry({ ...testConfig(dir), database: { url: pg.url } }, createLogger('silent'));
      }),
    );
    try {
      const names = Array.from({ length: 36 }, (_, i) => `crowd/app-${i}`);
      const outcomes = await Promise.allSettled(
        names.map((name, i) => pushImage(request(replicas[i % 3]!.app), name, 'v1', { seed: 'shared' })),
      );
      expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
      for (const name of names) await request(replicas[0]!.app).get(`/v2/${name}/manifests/v1`).expect(200);
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
  });

  it('counts failed logins in PostgreSQL and probes it in /readyz: 200, then 503 naming it once it is down', async () => {
    const base = testConfig(dataDir);
    const config = { ...base, database: { url: pg.url }, auth: { ...base.auth, mode: 'token' as const, adminPassword: 'admin-password' } };
    registry = await createRegistry(config, createLogger('silent'));
    const http = request(registry.app);

    const wrong = `Basic ${Buffer.from('admin:not-the-password').toString('base64')}`;
    await http.get('/v2/').set('Authorization', wrong).expect(401);
    const admin = new Pool({ connectionString: pg.url, max: 1 });
    try {
      const rows = await admin.query("SELECT failures FROM login_failures WHERE key = 'user:admin'");
      expect(rows.rows).toEqual([{ failures: 1 }]);
    } finally {
      await admin.end();
    }

    const ready = await http.get('/readyz').expect(200);
    // metadata-db is the configured database: PostgreSQL here.
    expect(ready.body.checks).toEqual({ 'blob-storage': 'ok', 'metadata-db': 'ok' });

    pg.stop();
    const down = await http.get('/readyz').expect(503);
    expect(down.body.failed).toEqual(['metadata-db']);
  });
});
