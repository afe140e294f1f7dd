import request from 'supertest';
import { runRetentionCommand } from '../../src/cli/retention-command';
import { createRegistry, type Registry } from '../../src/composition-root';
import { DEFAULT_CONFIG } from '../../src/config';
import { createLogger } from '../../src/log';
import { manifestFor, putManifest, seedPackage } from '../auth/support/registry-ops';
import { prepareTestConfig, type TestSetup } from '../support/registry';

/** `berth retention`: the plan, one line per version with why, and a JSON summary last; on a running registry's data. */
const ADMIN_PASSWORD = 'admin-password-cli';
const alice = `Basic ${Buffer.from('alice:alice-password').toString('base64')}`;
let setup: TestSetup;
let registry: Registry;
let http: ReturnType<typeof request>;

async function berth(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runRetentionCommand(['retention', ...args], {
    env: { ...setup.env, BERTH_AUTH: 'token', BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD, BERTH_LOG_LEVEL: 'silent' },
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    readStdin: async () => '',
  });
  return { code, stdout, stderr, summary: JSON.parse(stdout.trim().split('\n').pop() || '{}') as Record<string, unknown> };
}

beforeAll(async () => {
  setup = await prepareTestConfig({}, 'berth-cli-retention-');
  const config = { ...setup.config, auth: { ...DEFAULT_CONFIG.auth, mode: 'token' as const, adminPassword: ADMIN_PASSWORD } };
  registry = await createRegistry(config, createLogger('silent'));
  http = request(registry.app);
  const created = await http.post('/api/v1/users').auth('admin', ADMIN_PASSWORD).send({ name: 'alice', password: 'alice-password' });
  expect(created.status).toBe(201);
  const content = await seedPackage(http, alice, 'alice/app', 'v1');
  for (const tag of ['v2', 'v3']) {
    expect((await putManifest(http, alice, 'alice/app', tag, manifestFor(content, tag).content)).status).toBe(201);
  }
  const put = await http
    .put('/api/v1/users/alice/retention-policy')
    .set('Authorization', alice)
    .send({ keep_tagged: [{ pattern: 'v*', count: 2 }] });
  expect(put.status).toBe(200);
});
afterAll(async () => {
  await registry.close();
  await setup.dispose();
});

describe('berth retention', () => {
  it('prints the plan with reasons, then deletes on a real run; JSON summary last', async () => {
    const dry = await berth('--dry-run', '--owner', 'alice');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^would delete alice\/app version \d+ sha256:[0-9a-f]{64} \(v1\): beyond the 2 most recent matching v\*$/m);
    expect(dry.summary).toEqual({ dry_run: true, packages: 1, deleted: 1, kept: 2, failed: 0, seconds: expect.any(Number) });
    expect((await http.get('/v2/alice/app/manifests/v1').set('Authorization', alice)).status).toBe(200);

    const run = await berth();
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^deleted alice\/app version \d+ .* \(v1\): beyond the 2 most recent matching v\*$/m);
    expect(run.summary).toMatchObject({ dry_run: false, packages: 1, deleted: 1, kept: 2, failed: 0 });
    expect((await http.get('/v2/alice/app/manifests/v1').set('Authorization', alice)).status).toBe(404);
    expect((await http.get('/v2/alice/app/manifests/v3').set('Authorization', alice)).status).toBe(200);
  });

  it('refuses bad arguments with 2', async () => {
    expect((await berth('--owner', 'alice', '--package', 'alice/app')).code).toBe(2);
    expect((await berth('--everything')).code).toBe(2);
  });
});
