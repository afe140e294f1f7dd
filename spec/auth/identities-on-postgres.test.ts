import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import request from 'supertest';
import { createRegistry, type Registry } from '../../src/composition-root';
import type { Config } from '../../src/config';
import { createLogger } from '../../src/log';
import { databaseUrl } from '../persistence/support/test-databases';
import { testConfig } from '../support/registry';
import { basic, fetchToken, ISSUER, SERVICE } from './support/auth-registry';

/**
 * Two replicas on separate hosts: each its own data directory, one
 * PostgreSQL (a fresh schema of the test server). Identities and signing
 * keys live in the database, so what one replica made, the other knows.
 */
describe('identities on PostgreSQL, shared by replicas that share no file', () => {
  const schema = `spec_${randomBytes(6).toString('hex')}`;
  const admin = new Pool({ connectionString: databaseUrl(), max: 1 });
  const url = `${databaseUrl()}${databaseUrl().includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const dataDirs: string[] = [];
  const registries: Registry[] = [];

  async function replica(adminPassword: string): Promise<ReturnType<typeof request>> {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'berth-pg-identities-'));
    dataDirs.push(dataDir);
    const base = testConfig(dataDir);
    const config: Config = {
      ...base,
      database: { url },
      auth: { ...base.auth, mode: 'token', service: SERVICE, issuer: ISSUER, adminPassword },
    };
    const registry = await createRegistry(config, createLogger('silent'));
    registries.push(registry);
    return request(registry.app);
  }

  beforeAll(() => admin.query(`CREATE SCHEMA ${schema}`));
  afterAll(async () => {
    for (const r of registries) await r.close();
    for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });

  it('a second replica finds the admin and the signing key the first one made', async () => {
    const first = await replica('first-password');
    // The second start finds admin in the database, so its own configured password is not used.
    const second = await replica('second-password');
    await second.get('/v2/').set('Authorization', basic('admin', 'first-password')).expect(200);
    await second.get('/v2/').set('Authorization', basic('admin', 'second-password')).expect(401);

    const token = await fetchToken(first, { username: 'admin', password: 'first-password' }, []);
    await second.get('/v2/').set('Authorization', `Bearer ${token}`).expect(200);
    const accounts = await admin.query(`SELECT name FROM ${schema}.accounts`);
    expect(accounts.rows).toEqual([{ name: 'admin' }]);
  });
});
