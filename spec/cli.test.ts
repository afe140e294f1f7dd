import { Authenticator } from '../src/auth/authenticator';
import { Unauthenticated } from '../src/auth/errors';
import type { IdentityStores } from '../src/auth/stores/identity-stores';
import { runAdminCommand } from '../src/cli/admin-commands';
import { openRegistryIdentityStores } from './auth/support/identity-stores';
import { prepareTestConfig, type TestSetup } from './support/registry';

/** The management commands (`berth user add` …) over a data directory, as the CLI runs them. */
let setup: TestSetup;
beforeEach(async () => {
  setup = await prepareTestConfig({}, 'berth-cli-');
});
afterEach(() => setup.dispose());

async function berth(args: string, stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runAdminCommand(args.split(' ').filter(Boolean), {
    env: { ...setup.env, BERTH_LOG_LEVEL: 'silent' },
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    readStdin: async () => stdin,
  });
  return { code, stdout, stderr };
}

async function ok(args: string, stdin?: string): Promise<string> {
  const r = await berth(args, stdin);
  if (r.code !== 0) throw new Error(`berth ${args}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** A look at the stores as a server would see them. */
async function inspect<T>(fn: (store: IdentityStores) => Promise<T>): Promise<T> {
  const opened = await openRegistryIdentityStores(setup.config);
  try {
    return await fn(opened.identities);
  } finally {
    await opened.close();
  }
}

describe('berth user', () => {
  it('add prints a generated password, which signs in', async () => {
    const r = await berth('user add alice --admin');
    expect(r.code).toBe(0);
    const password = r.stdout.trim();
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(r.stdout).toBe(`${password}\n`);
    const principal = await inspect((store) => new Authenticator(store).login('alice', password, 'cli'));
    expect(principal).toMatchObject({ name: 'alice', isAdmin: true });
  });

  it('add --password-stdin and passwd take the password without its trailing newline', async () => {
    expect(await ok('user add bob --password-stdin', 'bob-password\n')).toBe('created user bob\n');
    await ok('user passwd bob --password-stdin', 'bob-new-password\r\n');
    const principal = await inspect((store) => new Authenticator(store).login('bob', 'bob-new-password', 'cli'));
    expect(principal).toMatchObject({ name: 'bob', isAdmin: false });
  });

  it('refuses what the rules refuse with exit 1, and wrong usage with exit 2', async () => {
    await ok('user add bob --password-stdin', 'bob-password');
    expect(await berth('user add bob --password-stdin', 'another-password')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'berth: the name "bob" is taken\n',
    });
    expect((await berth('user add carol --password-stdin', 'short')).code).toBe(1);
    expect((await berth('user add carol --password-stdin', '')).code).toBe(2);
    expect((await berth('user passwd bob')).code).toBe(2);
    expect((await berth('user add')).code).toBe(2);
    expect((await berth('user add x --bogus')).code).toBe(2);
    expect((await berth('user frob')).code).toBe(2);
    expect(await berth('user delete nobody')).toMatchObject({ code: 1, stderr: 'berth: no user "nobody"\n' });
    await ok('user delete bob');
    expect(await inspect((store) => store.accounts.accountByName('bob'))).toBeNull();
  });
});

describe('berth org, repo and package', () => {
  beforeEach(async () => {
    await ok('user add alice --password-stdin', 'alice-password');
    await ok('user add bob --password-stdin', 'bob-password');
  });

  it('create an organisation, its members, a repository and its collaborators', async () => {
    expect((await berth('org create acme')).code).toBe(2);
    await ok('org create acme --owner alice');
    await ok('org member acme bob --role member');
    expect((await berth('org member acme bob --role boss')).code).toBe(2);
    expect((await berth('org member acme alice --role none')).code).toBe(1);
    await ok('repo create acme/web');
    await ok('repo create alice/site --visibility public');
    expect((await berth('repo create acme/web')).code).toBe(1);
    expect((await berth('repo create acme')).code).toBe(2);
    expect((await berth('repo create acme/x --visibility secret')).code).toBe(2);
    await ok('repo visibility acme/web public');
    await ok('repo collaborator acme/web bob --role write');
    await ok('repo collaborator alice/site bob --role admin');
    await ok('repo collaborator alice/site bob --role none');
    const state = await inspect(async (store) => {
      const acme = await store.accounts.accountByName('acme');
      const web = await store.repositories.repository('acme', 'web');
      const site = await store.repositories.repository('alice', 'site');
      return {
        members: acme ? await store.accounts.orgMembers(acme.id) : [],
        web: web && { visibility: web.visibility, collaborators: await store.repositories.collaborators(web.id) },
        site: site && { visibility: site.visibility, collaborators: await store.repositories.collaborators(site.id) },
      };
    });
    expect(state).toEqual({
      members: [expect.objectContaining({ name: 'alice', role: 'owner' }), expect.objectContaining({ name: 'bob', role: 'member' })],
      web: { visibility: 'public', collaborators: [expect.objectContaining({ name: 'bob', role: 'write' })] },
      site: { visibility: 'public', collaborators: [] },
    });
  });

  it('link, unlink and set the visibility of a package', async () => {
    await ok('repo create alice/site');
    expect(await ok('package link alice/app alice/site')).toBe('linked alice/app to alice/site\n');
    expect(await berth('package visibility alice/app public')).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/linked to alice\/site/),
    });
    await ok('package unlink alice/app');
    await ok('package visibility alice/app public');
    expect((await berth('package visibility alice/app open')).code).toBe(2);
    expect((await berth('package link ghost/app alice/site')).code).toBe(1);
    expect(await inspect((store) => store.packages.package('alice/app'))).toMatchObject({ sourceRepositoryId: null, visibility: 'public' });
  });
});

describe('berth search reindex', () => {
  it('indexes packages the search index misses, and forgets deleted ones', async () => {
    expect(await ok('search reindex')).toBe('indexed 0 packages, removed 0\n');
    await ok('user add alice --password-stdin', 'alice-password');
    // A package linked ahead of its first push exists in the model; the CLI told no server's index.
    await ok('repo create alice/site --visibility public');
    await ok('package link alice/app alice/site');
    expect(await ok('search reindex')).toBe('indexed 1 packages, removed 0\n');
    expect(await ok('search reindex')).toBe('indexed 0 packages, removed 0\n');
    await inspect((store) => store.packages.setPackageDeletedAt('alice/app', Date.now()));
    expect(await ok('search reindex')).toBe('indexed 0 packages, removed 1\n');
  });
});

describe('berth token and ci-token', () => {
  beforeEach(async () => {
    await ok('user add alice --password-stdin', 'alice-password');
  });

  it('token create prints only the token, which authenticates with its scopes; list and revoke', async () => {
    const out = await ok('token create --user alice --scopes read:packages,write:packages --expires-days 7 --name laptop');
    expect(out).toMatch(/^berth_pat_[A-Za-z0-9_-]{43}\n$/);
    const token = out.trim();
    const principal = await inspect((store) => new Authenticator(store).login('alice', token, 'cli'));
    expect(principal).toMatchObject({ kind: 'user', allowed: new Set(['pull', 'push']) });

    const list = await ok('token list --user alice');
    expect(list.split('\n')[0]).toMatch(/^ID\s+KIND\s+NAME\s+SCOPES/);
    expect(list).toMatch(/^1\s+pat\s+laptop\s+read:packages,write:packages\s.*active$/m);
    expect(list).not.toContain(token);
    const json = JSON.parse(await ok('token list --user alice --json')) as Array<{ id: number; lastUsedAt: string | null }>;
    expect(json).toEqual([expect.objectContaining({ id: 1, lastUsedAt: expect.any(String) })]);

    expect(await ok('token revoke 1')).toBe('revoked token 1\n');
    expect(await ok('token list --user alice')).toMatch(/revoked$/m);
    await expect(inspect((store) => new Authenticator(store).login('alice', token, 'cli'))).rejects.toBeInstanceOf(Unauthenticated);
    expect((await berth('token revoke 99')).code).toBe(1);
    expect((await berth('token revoke one')).code).toBe(2);
    expect((await berth('token create --user alice --scopes admin')).code).toBe(1);
    expect((await berth('token create --scopes read:packages')).code).toBe(2);
    expect((await berth('token create --user alice --scopes read:packages --expires-days soon')).code).toBe(2);
  });

  it('ci-token create prints only a token for the repository, an hour by default', async () => {
    await ok('repo create alice/site');
    const out = await ok('ci-token create --repo alice/site');
    expect(out).toMatch(/^berth_ci_[A-Za-z0-9_-]{43}\n$/);
    const principal = await inspect((store) => new Authenticator(store).login('ci', out.trim(), 'cli'));
    expect(principal).toMatchObject({ kind: 'ci', name: 'ci:alice/site' });
    const [token] = JSON.parse(await ok('token list --user alice --json')) as Array<{ createdAt: string; expiresAt: string }>;
    expect(token && Date.parse(token.expiresAt) - Date.parse(token.createdAt)).toBe(3600_000);

    await ok('ci-token create --repo alice/site --ttl-minutes 5 --by alice');
    await ok('user add bob --password-stdin', 'bob-password');
    expect(await berth('ci-token create --repo alice/site --by bob')).toMatchObject({
      code: 1,
      stderr: 'berth: bob is not an admin of alice/site\n',
    });
    expect((await berth('ci-token create --repo alice/site --ttl-minutes 2000')).code).toBe(1);
    expect((await berth('ci-token create --repo alice/none')).code).toBe(1);
    expect((await berth('ci-token create')).code).toBe(2);
  });
});

describe('berth keys', () => {
  it('rotate adds a signing key, list shows them, retire keeps one active', async () => {
    const first = (await ok('keys rotate')).trim();
    const second = (await ok('keys rotate')).trim();
    const listed = await ok('keys list');
    expect(listed).toMatch(new RegExp(`^${first}\\s+ES256\\s+\\S+\\s+verifying$`, 'm'));
    expect(listed).toMatch(new RegExp(`^${second}\\s+ES256\\s+\\S+\\s+signing$`, 'm'));
    await ok(`keys retire ${first}`);
    expect(await berth(`keys retire ${second}`)).toMatchObject({ code: 1, stderr: expect.stringMatching(/only active key/) });
    expect((await berth('keys retire nosuch')).code).toBe(1);
    const json = JSON.parse(await ok('keys list --json')) as Array<{ kid: string; retiredAt: string | null }>;
    expect(json.map((k) => [k.kid, k.retiredAt === null])).toEqual([
      [first, false],
      [second, true],
    ]);
  });
});

describe('berth with a bad configuration', () => {
  it('exits 2 naming the setting', async () => {
    let stderr = '';
    const code = await runAdminCommand(['user', 'add', 'x'], {
      env: { ...setup.env, BERTH_MAX_PAGE_SIZE: 'lots' },
      stdout: () => undefined,
      stderr: (text) => (stderr += text),
      readStdin: async () => '',
    });
    expect(code).toBe(2);
    expect(stderr).toMatch(/maxPageSize/);
  });
});
