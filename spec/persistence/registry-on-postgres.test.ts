import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import request from 'supertest';
import { createLogger } from '../../src/log';
import { createRegistry, type Registry } from '../../src/composition-root';
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
    expect(ready.body.checks).toEqual({ 'blob-storage': 'ok', 'metadata-db': 'ok', postgres: 'ok' });

    pg.stop();
    const down = await http.get('/readyz').expect(503);
    expect(down.body.failed).toEqual(['postgres']);
  });
});
