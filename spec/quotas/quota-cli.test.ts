import request from 'supertest';
import { runAdminCommand } from '../../src/cli/admin-commands';
import { createRegistry } from '../../src/composition-root';
import { createLogger } from '../../src/log';
import { expectOciError } from '../support/http';
import { blob } from '../support/oci';
import { prepareTestConfig, type TestSetup } from '../support/registry';
import { postBlob } from '../auth/support/registry-ops';

/** `berth quota` on the data directory; a registry started on it holds pushes to what it set. */
let setup: TestSetup;
beforeEach(async () => {
  setup = await prepareTestConfig({}, 'berth-cli-quota-');
});
afterEach(() => setup.dispose());

async function berth(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runAdminCommand(args, {
    env: { ...setup.env, BERTH_LOG_LEVEL: 'silent', BERTH_QUOTA_VERSIONS_PER_PACKAGE: '20' },
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    readStdin: async () => '',
  });
  return { code, stdout, stderr };
}

it('sets and shows limits, verifies usage; the registry refuses what they exclude', async () => {
  expect((await berth('user', 'add', 'alice')).code).toBe(0);
  const set = await berth('quota', 'set', '--user', 'alice', '--bytes', '1KiB');
  expect(set.code).toBe(0);
  expect(set.stdout).toBe('owner\talice (user)\nused bytes\t0\nmax bytes\t1024 (own)\nmax versions per package\t20 (default)\n');
  expect((await berth('quota', 'set', '--user', 'alice', '--bytes', 'lots')).code).toBe(2);
  expect((await berth('quota', 'set', '--org', 'nobody', '--bytes', '1')).code).toBe(1);
  expect((await berth('quota', 'show', '--user', 'alice', '--org', 'x')).code).toBe(2);

  const registry = await createRegistry(setup.config, createLogger('silent'));
  try {
    const http = request(registry.app);
    expect((await postBlob(http, null, 'alice/app', blob(Buffer.alloc(1000, 1)))).status).toBe(201);
    expectOciError(await postBlob(http, null, 'alice/app', blob(Buffer.alloc(100, 2))), 403, 'DENIED');
  } finally {
    await registry.close();
  }
  const shown = await berth('quota', 'show', '--user', 'alice', '--json');
  expect(JSON.parse(shown.stdout)).toMatchObject({ owner: 'alice', used_bytes: 1000, max_bytes: 1024, max_versions_per_package: 20 });
  const verified = await berth('quota', 'verify', '--user', 'alice');
  expect({ code: verified.code, out: JSON.parse(verified.stdout) }).toEqual({
    code: 0,
    out: { owner: 'alice', counted: 1000, recomputed: 1000 },
  });
  // Neither limit: the defaults again.
  expect((await berth('quota', 'set', '--user', 'alice')).stdout).toContain('max bytes\tunlimited (default)\n');
});
