/**
 * The authorization matrix (issue 8): every principal × package × action,
 * over both ways a client authenticates to /v2:
 *   - `basic`:  credentials on every /v2 request (anonymous: no header);
 *   - `bearer`: GET /token with those credentials (anonymous: none) for the
 *               scope the action needs, then the JWT on the /v2 request.
 *
 * Principals (15): anonymous; the site admin; alice (owner of the user
 * namespace `alice` and its source repositories); bob / carol / dave, direct
 * collaborators with read / write / admin on all four source repositories;
 * erin / frank, owner / member of the org `acme`; mallory, signed in but
 * unrelated; alice's PATs with `read:packages`, `write:packages`,
 * `delete:packages`; bob's PAT with `write:packages` (a scope wider than his
 * read role); a CI token for alice/app-priv.
 *
 * Packages (8) = visibility (public, private) × kind:
 *   - linked to alice's source repository alice/app-{pub,priv}      (user-owned repository)
 *   - linked to acme's source repository acme/svc-{pub,priv}        (org-owned repository)
 *   - unlinked, owned by the user alice                              (own visibility)
 *   - unlinked, owned by the org acme                                (own visibility)
 * A linked package's own visibility is set to the opposite of its
 * repository's, so every cell also proves that the repository's wins.
 *
 * Actions (4): pull (manifest + blob GET), push (monolithic blob POST +
 * manifest PUT), delete (manifest DELETE of a fresh manifest), catalog
 * (whether the package is listed in /v2/_catalog).
 *
 * Matrix size: 15 principals × 8 packages × 4 actions = 480 cells per
 * transport, × 2 transports = 960 cells. Every refusal is checked for its
 * status, OCI error code and (for 401) the Bearer challenge naming the scope.
 * The expected table below is written from the rules, not derived
 * from the authorizer.
 */
import {
  decodeJwt,
  ADMIN_PASSWORD,
  SERVICE,
  addCiToken,
  addPat,
  addUser,
  basic,
  fetchToken,
  parseChallenge,
  startAuthRegistry,
  type AuthTestRegistry,
} from './support/auth-registry';
import {
  deleteManifest,
  getBlob,
  getCatalog,
  getManifest,
  manifestFor,
  postBlob,
  putManifest,
  seedPackage,
  type AuthHeader,
  type PackageContent,
} from './support/registry-ops';
import { blob } from '../support/oci';
import type { Response } from 'supertest';

type Action = 'pull' | 'push' | 'delete' | 'catalog';
type PackageAction = 'pull' | 'push' | 'delete';
type Role = 'none' | 'read' | 'write' | 'admin';
type Transport = 'basic' | 'bearer';

const ACTIONS: readonly Action[] = ['pull', 'push', 'delete', 'catalog'];
const TRANSPORTS: readonly Transport[] = ['basic', 'bearer'];

interface PackageSpec {
  name: string;
  visibility: 'public' | 'private';
  /** The source repository it is linked to, `owner/name`, or null. */
  linkedTo: string | null;
  describe: string;
}

const PACKAGES: readonly PackageSpec[] = [
  { name: 'alice/linked-pub', visibility: 'public', linkedTo: 'alice/app-pub', describe: 'public, linked to user repo' },
  { name: 'alice/linked-priv', visibility: 'private', linkedTo: 'alice/app-priv', describe: 'private, linked to user repo' },
  { name: 'acme/linked-pub', visibility: 'public', linkedTo: 'acme/svc-pub', describe: 'public, linked to org repo' },
  { name: 'acme/linked-priv', visibility: 'private', linkedTo: 'acme/svc-priv', describe: 'private, linked to org repo' },
  { name: 'alice/own-pub', visibility: 'public', linkedTo: null, describe: 'public, unlinked, user-owned' },
  { name: 'alice/own-priv', visibility: 'private', linkedTo: null, describe: 'private, unlinked, user-owned' },
  { name: 'acme/own-pub', visibility: 'public', linkedTo: null, describe: 'public, unlinked, org-owned' },
  { name: 'acme/own-priv', visibility: 'private', linkedTo: null, describe: 'private, unlinked, org-owned' },
];

const ROLE_ACTIONS: Record<Role, readonly PackageAction[]> = {
  none: [],
  read: ['pull'],
  write: ['pull', 'push'],
  admin: ['pull', 'push', 'delete'],
};
const SCOPE_ACTIONS: Record<string, readonly PackageAction[]> = {
  'read:packages': ['pull'],
  'write:packages': ['pull', 'push'],
  'delete:packages': ['pull', 'delete'],
};

const isLinked = (p: PackageSpec) => p.linkedTo !== null;
const isAcme = (p: PackageSpec) => p.name.startsWith('acme/');
const isAlice = (p: PackageSpec) => p.name.startsWith('alice/');

interface PrincipalSpec {
  key: string;
  describe: string;
  /** The role the principal's identity holds on a package (before credential narrowing). */
  role(p: PackageSpec): Role;
  /** A PAT's scopes narrow the role; null: not narrowed. */
  scopes: string[] | null;
  /** A CI token: read/write on packages linked to this source repository only. */
  ciRepository?: string;
  anonymous?: boolean;
}

const PRINCIPALS: readonly PrincipalSpec[] = [
  { key: 'anonymous', describe: 'anonymous', anonymous: true, role: () => 'none', scopes: null },
  { key: 'admin', describe: 'site admin', role: () => 'admin', scopes: null },
  { key: 'alice', describe: 'alice (owner of alice/*)', role: (p) => (isAlice(p) ? 'admin' : 'none'), scopes: null },
  { key: 'bob', describe: 'bob (read collaborator)', role: (p) => (isLinked(p) ? 'read' : 'none'), scopes: null },
  { key: 'carol', describe: 'carol (write collaborator)', role: (p) => (isLinked(p) ? 'write' : 'none'), scopes: null },
  { key: 'dave', describe: 'dave (admin collaborator)', role: (p) => (isLinked(p) ? 'admin' : 'none'), scopes: null },
  { key: 'erin', describe: 'erin (acme owner)', role: (p) => (isAcme(p) ? 'admin' : 'none'), scopes: null },
  {
    key: 'frank',
    describe: 'frank (acme member)',
    // An org member reads the org's source repositories and writes its unlinked packages.
    role: (p) => (isAcme(p) ? (isLinked(p) ? 'read' : 'write') : 'none'),
    scopes: null,
  },
  { key: 'mallory', describe: 'mallory (signed in, unrelated)', role: () => 'none', scopes: null },
  { key: 'alice-pat-read', describe: "alice's PAT read:packages", role: (p) => (isAlice(p) ? 'admin' : 'none'), scopes: ['read:packages'] },
  {
    key: 'alice-pat-write',
    describe: "alice's PAT write:packages",
    role: (p) => (isAlice(p) ? 'admin' : 'none'),
    scopes: ['write:packages'],
  },
  {
    key: 'alice-pat-delete',
    describe: "alice's PAT delete:packages",
    role: (p) => (isAlice(p) ? 'admin' : 'none'),
    scopes: ['delete:packages'],
  },
  {
    key: 'bob-pat-write',
    describe: "bob's PAT write:packages (read role)",
    role: (p) => (isLinked(p) ? 'read' : 'none'),
    scopes: ['write:packages'],
  },
  { key: 'ci', describe: 'CI token of alice/app-priv', role: () => 'none', scopes: null, ciRepository: 'alice/app-priv' },
  // A second CI token, for a public org repository: inside it pushes, outside it only pulls public packages.
  { key: 'ci-acme', describe: 'CI token of acme/svc-pub', role: () => 'none', scopes: null, ciRepository: 'acme/svc-pub' },
];

/** The oracle: what the rules allow. */
function allowedActions(principal: PrincipalSpec, pkg: PackageSpec): Set<PackageAction> {
  const out = new Set<PackageAction>(pkg.visibility === 'public' ? ['pull'] : []);
  if (principal.ciRepository !== undefined) {
    if (pkg.linkedTo === principal.ciRepository) ['pull', 'push'].forEach((a) => out.add(a as PackageAction));
    return out;
  }
  let actions: readonly PackageAction[] = ROLE_ACTIONS[principal.role(pkg)];
  if (principal.scopes) {
    const allowed = new Set(principal.scopes.flatMap((s) => SCOPE_ACTIONS[s] ?? []));
    actions = actions.filter((a) => allowed.has(a));
    // Visibility grants pull to everyone; every PAT scope includes pull anyway.
  }
  actions.forEach((a) => out.add(a));
  return out;
}

function expectAllowed(principal: PrincipalSpec, pkg: PackageSpec, action: Action): boolean {
  if (action === 'catalog') return !principal.anonymous && allowedActions(principal, pkg).has('pull');
  return allowedActions(principal, pkg).has(action);
}

/** The scope a client asks /token for, and that a 401 challenge must name. */
function scopeFor(action: Action, name: string): string {
  switch (action) {
    case 'pull':
      return `repository:${name}:pull`;
    case 'push':
      return `repository:${name}:pull,push`;
    case 'delete':
      return `repository:${name}:delete`;
    case 'catalog':
      return 'registry:catalog:*';
  }
}

interface Cell {
  transport: Transport;
  principal: PrincipalSpec;
  pkg: PackageSpec;
  action: Action;
  allowed: boolean;
}

const CELLS: Cell[] = TRANSPORTS.flatMap((transport) =>
  PRINCIPALS.flatMap((principal) =>
    PACKAGES.flatMap((pkg) =>
      ACTIONS.map((action) => ({ transport, principal, pkg, action, allowed: expectAllowed(principal, pkg, action) })),
    ),
  ),
);

function outcome(cell: Cell): string {
  if (cell.allowed) return 'allowed';
  if (cell.transport === 'bearer' || cell.principal.anonymous) return '401 UNAUTHORIZED';
  return '403 DENIED';
}

describe('authorization matrix', () => {
  let t: AuthTestRegistry;
  /** Basic credentials per principal key (username, password or token secret). */
  const credentials = new Map<string, { username: string; password: string }>();
  const contents = new Map<string, PackageContent>();
  const catalogs = new Map<string, Set<string>>();
  const adminAuth = basic('admin', ADMIN_PASSWORD);
  let sequence = 0;

  beforeAll(async () => {
    t = await startAuthRegistry();
    const ids = t.identities;
    const users = new Map<string, Awaited<ReturnType<typeof addUser>>>();
    for (const name of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'mallory']) {
      users.set(name, await addUser(ids, name));
      credentials.set(name, { username: name, password: `${name}-password` });
    }
    const user = (name: string) => users.get(name) ?? fail(`no user ${name}`);
    credentials.set('admin', { username: 'admin', password: ADMIN_PASSWORD });

    const acme = await ids.accounts.createAccount('acme', 'org', null, false);
    await ids.accounts.setOrgMember(acme.id, user('erin').id, 'owner');
    await ids.accounts.setOrgMember(acme.id, user('frank').id, 'member');

    const repositories = new Map<string, number>();
    for (const [owner, name, visibility] of [
      [user('alice'), 'app-pub', 'public'],
      [user('alice'), 'app-priv', 'private'],
      [acme, 'svc-pub', 'public'],
      [acme, 'svc-priv', 'private'],
    ] as const) {
      const repo = await ids.repositories.createRepository(owner.id, name, visibility);
      repositories.set(`${owner.name}/${name}`, repo.id);
      await ids.repositories.setCollaborator(repo.id, user('bob').id, 'read');
      await ids.repositories.setCollaborator(repo.id, user('carol').id, 'write');
      await ids.repositories.setCollaborator(repo.id, user('dave').id, 'admin');
    }

    for (const pkg of PACKAGES) {
      const owner = isAcme(pkg) ? acme : user('alice');
      const repositoryId = pkg.linkedTo === null ? null : (repositories.get(pkg.linkedTo) ?? fail(`no repository ${pkg.linkedTo}`));
      const opposite = pkg.visibility === 'public' ? 'private' : 'public';
      await ids.packages.ensurePackage({
        name: pkg.name,
        ownerId: owner.id,
        sourceRepositoryId: repositoryId,
        // Linked: the package's own setting says the opposite, and must not count.
        visibility: repositoryId === null ? pkg.visibility : opposite,
        createdAt: Date.now(),
      });
      contents.set(pkg.name, await seedPackage(t.http, adminAuth, pkg.name, 'v1'));
    }

    for (const p of PRINCIPALS) {
      if (p.scopes) {
        const owner = user(p.key.split('-')[0] as string);
        const pat = await addPat(ids, owner, p.scopes);
        credentials.set(p.key, { username: owner.name, password: pat.secret });
      }
      if (p.ciRepository) {
        const repositoryId = repositories.get(p.ciRepository) ?? fail(`no repository ${p.ciRepository}`);
        const minter = p.ciRepository.startsWith('acme/') ? user('erin') : user('alice');
        const ci = await addCiToken(ids, minter, repositoryId);
        credentials.set(p.key, { username: 'ci', password: ci.secret });
      }
    }
  });

  afterAll(async () => {
    await t?.close();
  });

  function fail(message: string): never {
    throw new Error(message);
  }

  /** The Authorization header for a cell's request, fetching a token for the bearer transport. */
  async function authFor(cell: Cell): Promise<AuthHeader> {
    const creds = cell.principal.anonymous
      ? null
      : (credentials.get(cell.principal.key) ?? fail(`no credentials for ${cell.principal.key}`));
    if (cell.transport === 'basic') return creds ? basic(creds.username, creds.password) : null;
    const scope = scopeFor(cell.action, cell.pkg.name);
    const token = await fetchToken(t.http, creds, [scope]);
    // The token's access claim is the intersection of what was asked and what is allowed.
    const access = decodeJwt(token).payload.access as Array<{ type: string; name: string; actions: string[] }>;
    if (cell.action === 'catalog') {
      const granted = access.some((a) => a.type === 'registry' && a.name === 'catalog' && a.actions.includes('*'));
      expect({ scope, granted }).toEqual({ scope, granted: !cell.principal.anonymous });
    } else {
      const asked = cell.action === 'push' ? ['pull', 'push'] : [cell.action];
      const allowed = allowedActions(cell.principal, cell.pkg);
      const granted = access.filter((a) => a.type === 'repository' && a.name === cell.pkg.name).flatMap((a) => a.actions);
      expect({ scope, granted: [...granted].sort() }).toEqual({
        scope,
        granted: asked.filter((a) => allowed.has(a as PackageAction)).sort(),
      });
    }
    return `Bearer ${token}`;
  }

  function expectRefused(cell: Cell, res: Response): void {
    const code = res.body?.errors?.[0]?.code as string | undefined;
    if (outcome(cell) === '403 DENIED') {
      expect({ status: res.status, code }).toEqual({ status: 403, code: 'DENIED' });
      return;
    }
    expect({ status: res.status, code }).toEqual({ status: 401, code: 'UNAUTHORIZED' });
    const challenge = parseChallenge(res);
    expect(challenge.realm).toMatch(/^http:\/\/.+\/token$/);
    expect(challenge.service).toBe(SERVICE);
    expect(challenge.scope).toBe(scopeFor(cell.action, cell.pkg.name));
    if (cell.transport === 'bearer') expect(challenge.error).toBe('insufficient_scope');
    else expect(challenge.error).toBeUndefined();
  }

  async function catalogFor(cell: Cell, auth: AuthHeader): Promise<Response | Set<string>> {
    const key = `${cell.transport}:${cell.principal.key}`;
    const cached = catalogs.get(key);
    if (cached) return cached;
    const res = await getCatalog(t.http, auth);
    if (res.status !== 200) return res;
    const names = new Set<string>(res.body.repositories as string[]);
    catalogs.set(key, names);
    return names;
  }

  test.each(
    CELLS.map(
      (c) => [`${c.transport} · ${c.principal.describe} · ${c.pkg.name} (${c.pkg.describe}) · ${c.action} → ${outcome(c)}`, c] as const,
    ),
  )('%s', async (_title, cell) => {
    const { pkg, action } = cell;
    const content = contents.get(pkg.name) ?? fail(`no content for ${pkg.name}`);
    const auth = await authFor(cell);

    if (action === 'pull') {
      const res = await getManifest(t.http, auth, pkg.name, 'v1');
      if (!cell.allowed) return expectRefused(cell, res);
      expect(res.status).toBe(200);
      const b = await getBlob(t.http, auth, pkg.name, content.config.digest);
      expect(b.status).toBe(200);
      return;
    }

    if (action === 'push') {
      const seed = `push ${++sequence} ${cell.principal.key}`;
      const b = blob(seed);
      const res = await postBlob(t.http, auth, pkg.name, b);
      const m = manifestFor(content, seed);
      const put = await putManifest(t.http, auth, pkg.name, m.digest, m.content);
      if (!cell.allowed) {
        expectRefused(cell, res);
        expectRefused(cell, put);
        // Nothing landed.
        expect((await getManifest(t.http, adminAuth, pkg.name, m.digest)).status).toBe(404);
        return;
      }
      expect(res.status).toBe(201);
      expect(put.status).toBe(201);
      return;
    }

    if (action === 'delete') {
      // A fresh manifest per cell, pushed by the admin, so an allowed delete removes only its own.
      const m = manifestFor(content, `delete ${++sequence}`);
      expect((await putManifest(t.http, adminAuth, pkg.name, m.digest, m.content)).status).toBe(201);
      const res = await deleteManifest(t.http, auth, pkg.name, m.digest);
      const after = await getManifest(t.http, adminAuth, pkg.name, m.digest);
      if (!cell.allowed) {
        expectRefused(cell, res);
        expect(after.status).toBe(200);
        return;
      }
      expect(res.status).toBe(202);
      expect(after.status).toBe(404);
      return;
    }

    // catalog: anonymous callers are challenged; everyone else sees exactly what they may pull.
    const listed = await catalogFor(cell, auth);
    if (cell.principal.anonymous) {
      expect(listed).not.toBeInstanceOf(Set);
      expectRefused(cell, listed as Response);
      return;
    }
    expect(listed).toBeInstanceOf(Set);
    expect({ listed: (listed as Set<string>).has(pkg.name) }).toEqual({ listed: cell.allowed });
  });

  test('the matrix has 960 cells', () => {
    expect(CELLS).toHaveLength(15 * 8 * 4 * 2);
  });
});

describe('first push into a namespace', () => {
  let t: AuthTestRegistry;
  const adminAuth = basic('admin', ADMIN_PASSWORD);
  let repoId = 0;
  let ciSecret = '';

  beforeAll(async () => {
    t = await startAuthRegistry();
    const ids = t.identities;
    const alice = await addUser(ids, 'alice');
    const bob = await addUser(ids, 'bob');
    await addUser(ids, 'mallory');
    const frank = await addUser(ids, 'frank');
    const acme = await ids.accounts.createAccount('acme', 'org', null, false);
    await ids.accounts.setOrgMember(acme.id, frank.id, 'member');
    const repo = await ids.repositories.createRepository(alice.id, 'app', 'private');
    repoId = repo.id;
    await ids.repositories.setCollaborator(repo.id, bob.id, 'read');
    ciSecret = (await addCiToken(ids, alice, repo.id)).secret;
    await seedPackage(t.http, adminAuth, 'alice/unlinked', 'v1');
  });

  afterAll(async () => {
    await t?.close();
  });

  const pushTo = async (auth: AuthHeader, name: string) => {
    const b = blob(`first push to ${name}`);
    return postBlob(t.http, auth, name, b);
  };

  test('a CI token creates a package in its repository owner namespace, linked to its repository', async () => {
    const ci = basic('ci', ciSecret);
    await seedPackage(t.http, ci, 'alice/built-by-ci', 'v1');
    const pkg = await t.identities.packages.package('alice/built-by-ci');
    expect(pkg).toMatchObject({ sourceRepositoryId: repoId, ownerId: (await t.identities.accounts.accountByName('alice'))?.id });
    // Linked, so it inherits the private repository's access: its read collaborator pulls, others cannot.
    expect((await getManifest(t.http, basic('bob', 'bob-password'), 'alice/built-by-ci', 'v1')).status).toBe(200);
    expect((await getManifest(t.http, basic('mallory', 'mallory-password'), 'alice/built-by-ci', 'v1')).status).toBe(403);
    expect((await getManifest(t.http, null, 'alice/built-by-ci', 'v1')).status).toBe(401);
    // The same through the bearer flow.
    const token = await fetchToken(t.http, { username: 'ci', password: ciSecret }, ['repository:alice/built-by-ci-2:pull,push']);
    await seedPackage(t.http, `Bearer ${token}`, 'alice/built-by-ci-2', 'v1');
    expect(await t.identities.packages.package('alice/built-by-ci-2')).toMatchObject({ sourceRepositoryId: repoId });
  });

  test('a CI token may not create packages in another namespace, nor write unlinked packages of its owner', async () => {
    const ci = basic('ci', ciSecret);
    const res = await pushTo(ci, 'acme/from-ci');
    expect({ status: res.status, code: res.body.errors?.[0]?.code }).toEqual({ status: 403, code: 'DENIED' });
    expect(await t.identities.packages.package('acme/from-ci')).toBeNull();
    const unlinked = await pushTo(ci, 'alice/unlinked');
    expect(unlinked.status).toBe(403);
    const token = await fetchToken(t.http, { username: 'ci', password: ciSecret }, ['repository:acme/from-ci:pull,push']);
    expect(decodeJwt(token).payload.access).toEqual([{ type: 'repository', name: 'acme/from-ci', actions: [] }]);
    expect((await pushTo(`Bearer ${token}`, 'acme/from-ci')).status).toBe(401);
  });

  test('a user creates private unlinked packages in their own namespace only', async () => {
    const mallory = basic('mallory', 'mallory-password');
    expect((await pushTo(mallory, 'mallory/tool')).status).toBe(201);
    expect(await t.identities.packages.package('mallory/tool')).toMatchObject({
      ownerId: (await t.identities.accounts.accountByName('mallory'))?.id,
      sourceRepositoryId: null,
      visibility: 'private',
    });
    const res = await pushTo(mallory, 'alice/intruder');
    expect({ status: res.status, code: res.body.errors?.[0]?.code }).toEqual({ status: 403, code: 'DENIED' });
    expect(await t.identities.packages.package('alice/intruder')).toBeNull();
    // A namespace no account owns cannot be pushed into.
    expect((await pushTo(mallory, 'nobody/thing')).status).toBe(403);
  });

  test('an org member creates packages in the org namespace; a read-only PAT creates nothing', async () => {
    expect((await pushTo(basic('frank', 'frank-password'), 'acme/new-tool')).status).toBe(201);
    expect(await t.identities.packages.package('acme/new-tool')).toMatchObject({
      ownerId: (await t.identities.accounts.accountByName('acme'))?.id,
    });
    const alice = await t.identities.accounts.accountByName('alice');
    if (!alice) throw new Error('no alice');
    const pat = await addPat(t.identities, alice, ['read:packages']);
    expect((await pushTo(basic('alice', pat.secret), 'alice/by-read-pat')).status).toBe(403);
    expect(await t.identities.packages.package('alice/by-read-pat')).toBeNull();
  });
});
