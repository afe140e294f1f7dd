import request from 'supertest';
import { runAdminCommand } from '../../src/cli/admin-commands';
import { createRegistry } from '../../src/composition-root';
import { createLogger } from '../../src/log';
import { expectOciError } from '../support/http';
import { prepareTestConfig, type TestSetup } from '../support/registry';
import { manifestFor, putManifest, seedPackage } from '../auth/support/registry-ops';

/** `berth immutable-tags` on the data directory; a registry started on it enforces what it added. */
let setup: TestSetup;
beforeEach(async () => {
  setup = await prepareTestConfig({}, 'berth-cli-immutable-');
});
afterEach(() => setup.dispose());

async function berth(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runAdminCommand(args, {
    env: { ...setup.env, BERTH_LOG_LEVEL: 'silent' },
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    readStdin: async () => '',
  });
  return { code, stdout, stderr };
}

it('adds, lists and removes rules; the registry refuses what they cover', async () => {
  expect((await berth('user', 'add', 'alice')).code).toBe(0);
  const added = await berth('immutable-tags', 'add', '--package', 'alice/app', 'v*', '--except', 'v*-rc*');
  expect(added.code).toBe(0);
  const id = added.stdout.trim();
  expect((await berth('immutable-tags', 'list', '--package', 'alice/app')).stdout).toBe(`${id}\tpackage alice/app\tv* except v*-rc*\n`);
  expect((await berth('immutable-tags', 'add', 'v*')).code).toBe(2);
  expect((await berth('immutable-tags', 'add', '--package', 'nobody/app', 'v*')).code).toBe(1);

  const registry = await createRegistry(setup.config, createLogger('silent'));
  try {
    const http = request(registry.app);
    const content = await seedPackage(http, null, 'alice/app', 'v1');
    expectOciError(await putManifest(http, null, 'alice/app', 'v1', manifestFor(content, 'other').content), 403, 'DENIED');
    expect((await putManifest(http, null, 'alice/app', 'v2-rc1', manifestFor(content, 'other').content)).status).toBe(201);
    expect((await putManifest(http, null, 'alice/app', 'v2-rc1', manifestFor(content, 'third').content)).status).toBe(201);
  } finally {
    await registry.close();
  }
  expect((await berth('immutable-tags', 'remove', id)).code).toBe(0);
  expect((await berth('immutable-tags', 'remove', id)).code).toBe(1);
});
