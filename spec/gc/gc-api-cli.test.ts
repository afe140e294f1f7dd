import { runGcCommand } from '../../src/cli/gc-command';
import { expectApiError } from '../support/http';
import { addPat, addUser, ADMIN_PASSWORD, basic, startAuthRegistry, type AuthTestRegistry } from '../auth/support/auth-registry';
import { packageContent, postBlob } from '../auth/support/registry-ops';
import { prepareTestConfig } from '../support/registry';

/** Garbage collection on demand: `POST /api/v1/admin/gc` (site administrators) and `berth gc`. */
describe('POST /api/v1/admin/gc', () => {
  let t: AuthTestRegistry;
  beforeAll(async () => {
    t = await startAuthRegistry();
    await addUser(t.identities, 'alice');
  });
  afterAll(() => t.close());

  it('runs a collection for a site administrator and answers what it reclaimed', async () => {
    const content = packageContent('alice/app');
    expect((await postBlob(t.http, basic('alice', 'alice-password'), 'alice/app', content.layer)).status).toBe(201);
    const admin = basic('admin', ADMIN_PASSWORD);
    const dry = await t.http.post('/api/v1/admin/gc').set('Authorization', admin).send({ dry_run: true, grace_seconds: 0 });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ objects: 1, bytes: content.layer.content.length, manifests: 0, dry_run: true });
    const kept = await t.http.post('/api/v1/admin/gc').set('Authorization', admin).send({});
    expect(kept.body).toMatchObject({ objects: 0, dry_run: false });
    const run = await t.http.post('/api/v1/admin/gc').set('Authorization', admin).send({ grace_seconds: 0 });
    expect(run.status).toBe(200);
    expect(run.body).toEqual({
      objects: 1,
      bytes: content.layer.content.length,
      manifests: 0,
      seconds: expect.any(Number),
      dry_run: false,
    });
    const head = await t.http.head(`/v2/alice/app/blobs/${content.layer.digest}`).set('Authorization', basic('alice', 'alice-password'));
    expect(head.status).toBe(404);
  });

  it('is refused to other users, to tokens, to anonymous callers, and to unknown fields', async () => {
    expectApiError(await t.http.post('/api/v1/admin/gc').set('Authorization', basic('alice', 'alice-password')).send({}), 403, 'FORBIDDEN');
    expectApiError(await t.http.post('/api/v1/admin/gc').send({}), 401, 'UNAUTHORIZED');
    const admin = await t.identities.accounts.accountByName('admin');
    const pat = await addPat(t.identities, admin!, ['read:packages', 'write:packages', 'delete:packages']);
    expectApiError(await t.http.post('/api/v1/admin/gc').set('Authorization', basic('admin', pat.secret)).send({}), 403, 'FORBIDDEN');
    const bad = await t.http.post('/api/v1/admin/gc').set('Authorization', basic('admin', ADMIN_PASSWORD)).send({ grace: 0 });
    expectApiError(bad, 400, 'REQUEST_INVALID');
  });
});

describe('berth gc', () => {
  async function berth(env: Record<string, string>, ...args: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runGcCommand(['gc', ...args], {
      env: { ...env, BERTH_LOG_LEVEL: 'silent' },
      stdout: (text) => (stdout += text),
      stderr: (text) => (stderr += text),
      readStdin: async () => '',
    });
    return { code, stdout, stderr };
  }

  it('prints its summary as JSON on its last line; refuses bad arguments with 2', async () => {
    const setup = await prepareTestConfig({}, 'berth-cli-gc-');
    try {
      const env = { ...setup.env, BERTH_AUTH: 'none' };
      const first = await berth(env, '--dry-run', '--grace-seconds', '0');
      expect(first.code).toBe(0);
      const last = first.stdout.trim().split('\n').pop() ?? '';
      expect(Object.keys(JSON.parse(last) as object)).toEqual(['objects', 'bytes', 'seconds']);
      const run = await berth(env, '--grace-seconds', '0', '--reconcile');
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout.trim().split('\n').pop() ?? '')).toMatchObject({ objects: 0, bytes: 0 });
      expect((await berth(env, '--grace-seconds', 'soon')).code).toBe(2);
      expect((await berth(env, '--everything')).code).toBe(2);
    } finally {
      await setup.dispose();
    }
  });
});
