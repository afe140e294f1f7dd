import type { Database } from '../../src/persistence/database';
import { Authenticator } from '../../src/auth/authenticator';
import { Authorizer } from '../../src/auth/authorizer';
import { IdentityService, SYSTEM } from '../../src/auth/identity-service';
import type { Account } from '../../src/auth/stores/account-store';
import { actionsFromScopes, ANONYMOUS, type Principal } from '../../src/auth/principal';
import { hashSecret } from '../../src/auth/secrets';
import type { IdentityStores } from '../../src/auth/stores/identity-stores';
import { AccessDenied, Unauthenticated } from '../../src/auth/errors';
import {
  AccessTokenNotFound,
  AccountNotFound,
  InvalidRequest,
  NameTaken,
  OrganizationNotFound,
  PackageNotFound,
  RepositoryNotFound,
  StillNeeded,
  UserNotFound,
} from '../../src/auth/management/errors';
import type { DomainError } from '../../src/domain-error';
import { openIdentityStores } from './support/identity-stores';

/** The management rules, one actor at a time: who may do what, and what each refusal is. */
let db: Database;
let close: () => Promise<void>;
let identities: IdentityStores;
let authenticator: Authenticator;
let service: IdentityService;

beforeEach(async () => {
  ({ identities, db, close } = await openIdentityStores());
  authenticator = new Authenticator(identities);
  service = new IdentityService(identities, new Authorizer(identities), authenticator, { ciTokenTtlMinutes: 60 });
});
afterEach(() => close());

function as(account: Account, scopes?: string[]): Principal {
  return {
    kind: 'user',
    userId: account.id,
    name: account.name,
    isAdmin: account.isAdmin,
    credential: scopes ? { type: 'pat', tokenId: 0 } : { type: 'password' },
    allowed: scopes ? actionsFromScopes(scopes) : null,
  };
}

async function user(name: string, admin = false): Promise<Account> {
  await service.accounts.createUser(SYSTEM, { name, password: `${name}-password`, admin });
  const account = await identities.accounts.accountByName(name);
  if (!account) throw new Error(`no ${name}`);
  return account;
}

async function refused(promise: Promise<unknown>, type: abstract new (...args: never[]) => DomainError): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(type);
}

describe('users', () => {
  it('are created by administrators and the CLI only', async () => {
    const admin = await user('root', true);
    const alice = await user('alice');
    await expect(service.accounts.createUser(as(admin), { name: 'bob', password: 'bob-password' })).resolves.toMatchObject({
      name: 'bob',
      admin: false,
    });
    await refused(service.accounts.createUser(as(alice), { name: 'carol', password: 'carol-password' }), AccessDenied);
    await refused(service.accounts.createUser(ANONYMOUS, { name: 'carol', password: 'carol-password' }), Unauthenticated);
    // An administrator's access token covers packages, not accounts.
    await refused(service.accounts.createUser(as(admin, ['write:packages']), { name: 'carol', password: 'carol-password' }), AccessDenied);
    expect(await identities.accounts.accountByName('carol')).toBeNull();
  });

  it('refuse taken names (users and organisations share them), bad names and short passwords', async () => {
    await user('alice');
    await service.accounts.createOrg(SYSTEM, 'acme', 'alice');
    await refused(service.accounts.createUser(SYSTEM, { name: 'alice', password: 'another-password' }), NameTaken);
    await refused(service.accounts.createUser(SYSTEM, { name: 'acme', password: 'another-password' }), NameTaken);
    await refused(service.accounts.createUser(SYSTEM, { name: 'Alice', password: 'another-password' }), InvalidRequest);
    await refused(service.accounts.createUser(SYSTEM, { name: 'a/b', password: 'another-password' }), InvalidRequest);
    await refused(service.accounts.createUser(SYSTEM, { name: 'dave', password: 'short' }), InvalidRequest);
  });

  it("set their own password by proving the current one; administrators reset anyone's", async () => {
    const admin = await user('root', true);
    const alice = await user('alice');
    const bob = await user('bob');
    await refused(service.accounts.setPassword(as(alice), 'alice', 'new-password-1'), AccessDenied);
    await refused(service.accounts.setPassword(as(alice), 'alice', 'new-password-1', 'wrong-password'), AccessDenied);
    await service.accounts.setPassword(as(alice), 'alice', 'new-password-1', 'alice-password');
    await expect(authenticator.login('alice', 'new-password-1', 'a')).resolves.toMatchObject({ name: 'alice' });
    await refused(service.accounts.setPassword(as(bob), 'alice', 'bob-owns-you'), AccessDenied);
    await service.accounts.setPassword(as(admin), 'alice', 'reset-by-admin');
    await service.accounts.setPassword(SYSTEM, 'bob', 'reset-by-cli');
    await expect(authenticator.login('alice', 'reset-by-admin', 'b')).resolves.toMatchObject({ name: 'alice' });
    await expect(authenticator.login('bob', 'reset-by-cli', 'c')).resolves.toMatchObject({ name: 'bob' });
    await refused(service.accounts.setPassword(SYSTEM, 'nobody', 'whatever-password'), UserNotFound);
  });

  it('are deleted by administrators, never the last administrator', async () => {
    const admin = await user('root', true);
    const alice = await user('alice');
    await user('bob');
    await refused(service.accounts.deleteUser(as(alice), 'bob'), AccessDenied);
    await service.accounts.deleteUser(as(admin), 'bob');
    expect(await identities.accounts.accountByName('bob')).toBeNull();
    await refused(service.accounts.deleteUser(as(admin), 'root'), StillNeeded);
    await user('second', true);
    await service.accounts.deleteUser(SYSTEM, 'root');
    await refused(service.accounts.deleteUser(SYSTEM, 'root'), UserNotFound);
    expect(admin.id).toBeGreaterThan(0);
  });

  it('are not deleted while they own packages, so nobody taking the name inherits the images', async () => {
    const admin = await user('root', true);
    const carol = await user('carol');
    await identities.packages.ensurePackage({
      name: 'carol/app',
      ownerId: carol.id,
      sourceRepositoryId: null,
      visibility: 'private',
      createdAt: Date.now(),
    });
    await refused(service.accounts.deleteUser(as(admin), 'carol'), StillNeeded);
    expect(await identities.accounts.accountByName('carol')).not.toBeNull();
    expect((await identities.packages.package('carol/app'))?.ownerId).toBe(carol.id);
  });

  it('see themselves; only administrators see others', async () => {
    const alice = await user('alice');
    await user('bob');
    await expect(service.accounts.me(as(alice))).resolves.toMatchObject({ name: 'alice', admin: false, orgs: [] });
    await refused(service.accounts.me(ANONYMOUS), Unauthenticated);
    await refused(service.accounts.user(as(alice), 'bob'), AccessDenied);
    await refused(service.accounts.listUsers(as(alice)), AccessDenied);
    expect((await service.accounts.listUsers(SYSTEM)).map((u) => u.name)).toEqual(['alice', 'bob']);
  });
});

describe('organisations', () => {
  it('are created by any user, who becomes the owner; owners manage members', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await user('carol');
    await expect(service.accounts.createOrg(as(alice), 'acme')).resolves.toMatchObject({ members: [{ name: 'alice', role: 'owner' }] });
    await service.accounts.setMember(as(alice), 'acme', 'bob', 'member');
    await refused(service.accounts.setMember(as(bob), 'acme', 'carol', 'member'), AccessDenied);
    await refused(service.accounts.createOrg(as(bob), 'acme'), NameTaken);
    await refused(service.accounts.createOrg(as(bob, ['write:packages']), 'other'), AccessDenied);
    // Someone else as owner: administrators and the CLI only.
    await refused(service.accounts.createOrg(as(bob), 'bobs', 'carol'), AccessDenied);
    await expect(service.accounts.createOrg(SYSTEM, 'carols', 'carol')).resolves.toMatchObject({ name: 'carols' });
    expect((await service.accounts.me(as(bob))).orgs).toEqual([{ name: 'acme', role: 'member' }]);
  });

  it('keep one owner at least', async () => {
    const alice = await user('alice');
    await user('bob');
    await service.accounts.createOrg(as(alice), 'acme');
    await refused(service.accounts.setMember(as(alice), 'acme', 'alice', 'member'), StillNeeded);
    await refused(service.accounts.setMember(as(alice), 'acme', 'alice', null), StillNeeded);
    await service.accounts.setMember(as(alice), 'acme', 'bob', 'owner');
    await service.accounts.setMember(as(alice), 'acme', 'alice', null);
    expect((await service.accounts.org(SYSTEM, 'acme')).members).toEqual([{ name: 'bob', role: 'owner' }]);
  });

  it('list their members to members and administrators only', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await service.accounts.createOrg(as(alice), 'acme');
    expect((await service.accounts.org(as(alice), 'acme')).members).toHaveLength(1);
    expect((await service.accounts.org(as(bob), 'acme')).members).toBeUndefined();
    await refused(service.accounts.org(as(bob), 'alice'), OrganizationNotFound);
    expect(await service.accounts.listOrgs(as(bob))).toEqual([]);
  });
});

describe('repositories', () => {
  it('are created under oneself or an organisation one belongs to', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await user('carol');
    await service.accounts.createOrg(as(alice), 'acme');
    await service.accounts.setMember(as(alice), 'acme', 'bob', 'member');
    await expect(service.repositories.create(as(alice), { name: 'site' })).resolves.toMatchObject({
      owner: 'alice',
      visibility: 'private',
      role: 'admin',
    });
    await refused(service.repositories.create(as(bob), { owner: 'alice', name: 'sneaky' }), AccessDenied);
    await refused(service.repositories.create(as(bob), { owner: 'carol', name: 'sneaky' }), AccessDenied);
    // A member who is not an owner becomes the admin of what they create.
    await expect(service.repositories.create(as(bob), { owner: 'acme', name: 'api' })).resolves.toMatchObject({ role: 'admin' });
    expect(await service.repositories.collaborators(as(alice), 'acme', 'api')).toEqual([{ name: 'bob', role: 'admin' }]);
    await refused(service.repositories.create(as(alice), { name: 'site' }), NameTaken);
    await refused(service.repositories.create(as(alice), { name: 'Bad Name' }), InvalidRequest);
    await refused(service.repositories.create(as(alice), { owner: 'ghost', name: 'x' }), AccountNotFound);
    await refused(service.repositories.create(ANONYMOUS, { owner: 'alice', name: 'x' }), Unauthenticated);
  });

  it('hide private repositories from strangers; admins set visibility and collaborators', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const carol = await user('carol');
    await service.repositories.create(as(alice), { name: 'site' });
    await refused(service.repositories.show(as(bob), 'alice', 'site'), RepositoryNotFound);
    await refused(service.repositories.setVisibility(as(bob), 'alice', 'site', 'public'), RepositoryNotFound);
    expect((await service.repositories.list(as(bob))).map((r) => r.name)).toEqual([]);

    await service.repositories.setCollaborator(as(alice), 'alice', 'site', 'bob', 'read');
    await expect(service.repositories.show(as(bob), 'alice', 'site')).resolves.toMatchObject({ role: 'read' });
    await refused(service.repositories.setVisibility(as(bob), 'alice', 'site', 'public'), AccessDenied);
    await refused(service.repositories.collaborators(as(bob), 'alice', 'site'), AccessDenied);
    await refused(service.repositories.setCollaborator(as(bob), 'alice', 'site', 'carol', 'read'), AccessDenied);

    await service.repositories.setCollaborator(SYSTEM, 'alice', 'site', 'bob', 'admin');
    await service.repositories.setVisibility(as(bob), 'alice', 'site', 'public');
    await expect(service.repositories.show(as(carol), 'alice', 'site')).resolves.toMatchObject({ visibility: 'public', role: 'none' });
    await expect(service.repositories.show(ANONYMOUS, 'alice', 'site')).resolves.toMatchObject({ visibility: 'public' });
    await refused(service.repositories.setCollaborator(as(bob), 'alice', 'site', 'nobody', 'read'), UserNotFound);
    await service.repositories.setCollaborator(as(bob), 'alice', 'site', 'carol', 'write');
    await service.repositories.setCollaborator(as(alice), 'alice', 'site', 'carol', null);
    expect(await service.repositories.collaborators(as(alice), 'alice', 'site')).toEqual([{ name: 'bob', role: 'admin' }]);
  });

  it('give organisation owners admin and members read', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await service.accounts.createOrg(as(alice), 'acme');
    await service.accounts.setMember(as(alice), 'acme', 'bob', 'member');
    await service.repositories.create(as(alice), { owner: 'acme', name: 'web' });
    await expect(service.repositories.show(as(bob), 'acme', 'web')).resolves.toMatchObject({ role: 'read' });
    await refused(service.repositories.setVisibility(as(bob), 'acme', 'web', 'public'), AccessDenied);
    await service.repositories.setVisibility(as(alice), 'acme', 'web', 'public');
  });
});

describe('packages', () => {
  async function pkg(name: string, ownerId: number) {
    return identities.packages.ensurePackage({ name, ownerId, sourceRepositoryId: null, visibility: 'private', createdAt: Date.now() });
  }

  it('are listed to those who can pull them', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await pkg('alice/app', alice.id);
    await pkg('alice/tool', alice.id);
    await service.packages.setVisibility(as(alice), 'alice/tool', 'public');
    expect((await service.packages.list(as(alice))).map((p) => p.name)).toEqual(['alice/app', 'alice/tool']);
    expect((await service.packages.list(as(bob))).map((p) => p.name)).toEqual(['alice/tool']);
    expect((await service.packages.list(ANONYMOUS)).map((p) => p.name)).toEqual(['alice/tool']);
    await expect(service.packages.show(as(alice), 'alice/app')).resolves.toMatchObject({
      owner: 'alice',
      repository: null,
      actions: ['pull', 'push', 'delete'],
    });
    await expect(service.packages.show(as(alice, ['read:packages']), 'alice/app')).resolves.toMatchObject({ actions: ['pull'] });
    await refused(service.packages.show(as(bob), 'alice/app'), PackageNotFound);
  });

  it('are linked by package admins with write on the repository, and then follow it', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const carol = await user('carol');
    await pkg('alice/app', alice.id);
    await service.repositories.create(as(alice), { name: 'site' });
    await service.repositories.create(as(bob), { name: 'other', visibility: 'public' });

    // Write on a repository does not make one admin of someone else's package.
    await refused(service.packages.link(as(bob), 'alice/app', 'bob/other'), PackageNotFound);
    // Admin of the package, but only read on the repository.
    await refused(service.packages.link(as(alice), 'alice/app', 'bob/other'), AccessDenied);
    await refused(service.packages.link(as(alice, ['write:packages']), 'alice/app', 'alice/site'), AccessDenied);

    await expect(service.packages.link(as(alice), 'alice/app', 'alice/site')).resolves.toMatchObject({
      repository: 'alice/site',
      visibility: 'private',
    });
    // The repository's collaborators now reach the package; its visibility is the repository's.
    await service.repositories.setCollaborator(as(alice), 'alice', 'site', 'carol', 'write');
    await expect(service.packages.show(as(carol), 'alice/app')).resolves.toMatchObject({ actions: ['pull', 'push'] });
    await refused(service.packages.setVisibility(as(alice), 'alice/app', 'public'), StillNeeded);
    await refused(service.packages.unlink(as(carol), 'alice/app'), AccessDenied);
    await service.repositories.setVisibility(as(alice), 'alice', 'site', 'public');
    await expect(service.packages.show(as(bob), 'alice/app')).resolves.toMatchObject({ visibility: 'public', actions: ['pull'] });

    await expect(service.packages.unlink(as(alice), 'alice/app')).resolves.toMatchObject({ repository: null, visibility: 'private' });
    await refused(service.packages.show(as(carol), 'alice/app'), PackageNotFound);
    expect(carol.id).toBeGreaterThan(0);
  });

  it('not pushed yet may be linked ahead by whoever would own them', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await service.accounts.createOrg(as(alice), 'acme');
    await service.accounts.setMember(as(alice), 'acme', 'bob', 'member');
    await service.repositories.create(as(alice), { owner: 'acme', name: 'web' });
    await service.repositories.setCollaborator(as(alice), 'acme', 'web', 'bob', 'write');
    // An organisation member may push a new package there, but administering it takes an owner.
    await refused(service.packages.link(as(bob), 'acme/web-image', 'acme/web'), AccessDenied);
    await expect(service.packages.link(as(alice), 'acme/web-image', 'acme/web')).resolves.toMatchObject({
      owner: 'acme',
      repository: 'acme/web',
    });
    expect(await identities.packages.package('acme/web-image')).toMatchObject({ sourceRepositoryId: expect.any(Number) });
    await refused(service.packages.link(SYSTEM, 'ghost/app', 'acme/web'), PackageNotFound);
    await refused(service.packages.link(SYSTEM, 'acme/Bad', 'acme/web'), InvalidRequest);
    await refused(service.packages.unlink(SYSTEM, 'acme/never-pushed'), PackageNotFound);
  });

  it('have their own visibility, set by their admin, while unlinked', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await pkg('alice/app', alice.id);
    await refused(service.packages.setVisibility(as(bob), 'alice/app', 'public'), PackageNotFound);
    await service.packages.setVisibility(as(alice), 'alice/app', 'public');
    await refused(service.packages.setVisibility(as(bob), 'alice/app', 'private'), AccessDenied);
    await expect(service.packages.show(as(bob), 'alice/app')).resolves.toMatchObject({ visibility: 'public', actions: ['pull'] });
  });
});

describe('personal access tokens', () => {
  it('are shown once, stored hashed, and authenticate with their scopes', async () => {
    const alice = await user('alice');
    const minted = await service.tokens.createPersonal(as(alice), 'alice', {
      name: 'laptop',
      scopes: ['read:packages', 'write:packages'],
      expiresInDays: 30,
    });
    expect(minted.token).toMatch(/^berth_pat_[A-Za-z0-9_-]{43}$/);
    expect(minted.record).toMatchObject({
      kind: 'pat',
      name: 'laptop',
      scopes: ['read:packages', 'write:packages'],
      status: 'active',
      lastUsedAt: null,
    });
    expect(Date.parse(minted.record.expiresAt ?? '') - Date.now()).toBeGreaterThan(29 * 86_400_000);
    const rows = await db.all('SELECT * FROM access_tokens');
    expect(JSON.stringify(rows)).not.toContain(minted.token);
    expect(await identities.tokens.accessTokenBySecret(hashSecret(minted.token))).toMatchObject({ id: minted.record.id });

    const principal = await authenticator.login('alice', minted.token, 'addr');
    expect(principal).toMatchObject({ kind: 'user', name: 'alice', allowed: new Set(['pull', 'push']) });
    const [listed] = await service.tokens.list(as(alice), 'alice');
    expect(listed).toMatchObject({ id: minted.record.id, lastUsedAt: expect.any(String) });
    expect(JSON.stringify(listed)).not.toContain(minted.token);
  });

  it('are created by their own user with a full sign-in, never by someone else', async () => {
    const admin = await user('root', true);
    const alice = await user('alice');
    await refused(service.tokens.createPersonal(as(admin), 'alice', { scopes: ['read:packages'] }), AccessDenied);
    await refused(service.tokens.createPersonal(as(alice, ['write:packages']), 'alice', { scopes: ['delete:packages'] }), AccessDenied);
    await refused(service.tokens.createPersonal(ANONYMOUS, 'alice', { scopes: ['read:packages'] }), Unauthenticated);
    await refused(service.tokens.createPersonal(as(alice), 'alice', { scopes: [] }), InvalidRequest);
    await refused(service.tokens.createPersonal(as(alice), 'alice', { scopes: ['admin:everything'] }), InvalidRequest);
    await refused(service.tokens.createPersonal(as(alice), 'alice', { scopes: ['read:packages'], expiresInDays: 0 }), InvalidRequest);
    await refused(service.tokens.createPersonal(as(alice), 'alice', { scopes: ['read:packages'], expiresInDays: 100_000 }), InvalidRequest);
    await expect(service.tokens.createPersonal(SYSTEM, 'alice', { scopes: ['read:packages'] })).resolves.toMatchObject({
      record: { name: 'token' },
    });
  });

  it('are revoked by their user or an administrator; revoked ones stop working', async () => {
    const admin = await user('root', true);
    const alice = await user('alice');
    const bob = await user('bob');
    const one = await service.tokens.createPersonal(as(alice), 'alice', { scopes: ['read:packages'] });
    const two = await service.tokens.createPersonal(as(alice), 'alice', { scopes: ['read:packages'] });
    await refused(service.tokens.revoke(as(bob), one.record.id), AccessTokenNotFound);
    await refused(service.tokens.list(as(bob), 'alice'), AccessDenied);
    await expect(service.tokens.revoke(as(alice), one.record.id)).resolves.toMatchObject({ status: 'revoked' });
    await expect(service.tokens.revoke(as(admin), two.record.id)).resolves.toMatchObject({ status: 'revoked' });
    await expect(service.tokens.revoke(as(alice), one.record.id)).resolves.toMatchObject({ status: 'revoked' });
    await refused(authenticator.login('alice', one.token, 'addr'), Unauthenticated);
    expect((await service.tokens.list(as(admin), 'alice')).map((t) => t.status)).toEqual(['revoked', 'revoked']);
    await refused(service.tokens.revoke(SYSTEM, 999), AccessTokenNotFound);
  });
});

describe('CI tokens', () => {
  it('are minted by repository admins, for an hour by default, and act on that repository', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await service.repositories.create(as(alice), { name: 'site' });
    await service.repositories.setCollaborator(as(alice), 'alice', 'site', 'bob', 'write');
    await refused(service.tokens.createCi(as(bob), { owner: 'alice', name: 'site' }), AccessDenied);
    await refused(service.tokens.createCi(as(alice, ['write:packages']), { owner: 'alice', name: 'site' }), AccessDenied);
    const minted = await service.tokens.createCi(as(alice), { owner: 'alice', name: 'site' });
    expect(minted.token).toMatch(/^berth_ci_/);
    expect(minted.record).toMatchObject({ kind: 'ci', repository: 'alice/site' });
    const lifetime = Date.parse(minted.record.expiresAt ?? '') - Date.parse(minted.record.createdAt);
    expect(lifetime).toBe(3600_000);
    const principal = await authenticator.login('ci', minted.token, 'addr');
    expect(principal).toMatchObject({ kind: 'ci', userId: alice.id, name: 'ci:alice/site' });
    // What a CI token may do is read.
    await refused(service.tokens.createCi(principal, { owner: 'alice', name: 'site' }), AccessDenied);
    await refused(service.repositories.setVisibility(principal, 'alice', 'site', 'public'), AccessDenied);
  });

  it('have a bounded lifetime, and the CLI names an admin of the repository as minter', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await service.accounts.createOrg(as(alice), 'acme');
    await service.repositories.create(as(alice), { owner: 'acme', name: 'web' });
    await refused(service.tokens.createCi(as(alice), { owner: 'acme', name: 'web' }, { ttlMinutes: 0 }), InvalidRequest);
    await refused(service.tokens.createCi(as(alice), { owner: 'acme', name: 'web' }, { ttlMinutes: 1441 }), InvalidRequest);
    const short = await service.tokens.createCi(as(alice), { owner: 'acme', name: 'web' }, { ttlMinutes: 5 });
    expect(Date.parse(short.record.expiresAt ?? '') - Date.parse(short.record.createdAt)).toBe(5 * 60_000);
    await refused(service.tokens.createCi(SYSTEM, { owner: 'acme', name: 'web' }, { by: 'bob' }), AccessDenied);
    await service.repositories.setCollaborator(SYSTEM, 'acme', 'web', 'bob', 'admin');
    const byBob = await service.tokens.createCi(SYSTEM, { owner: 'acme', name: 'web' }, { by: 'bob' });
    expect((await service.tokens.list(SYSTEM, 'bob')).map((t) => t.id)).toEqual([byBob.record.id]);
    // Without --by: the organisation's owner.
    const byDefault = await service.tokens.createCi(SYSTEM, { owner: 'acme', name: 'web' });
    expect((await service.tokens.list(SYSTEM, 'alice')).map((t) => t.id)).toContain(byDefault.record.id);
    await refused(service.tokens.createCi(SYSTEM, { owner: 'acme', name: 'nope' }), RepositoryNotFound);
    expect(bob.id).toBeGreaterThan(0);
  });

  it('take their default lifetime from the configuration', async () => {
    const configured = new IdentityService(identities, new Authorizer(identities), authenticator, { ciTokenTtlMinutes: 15 });
    const alice = await user('alice');
    await service.repositories.create(as(alice), { name: 'site' });
    const minted = await configured.tokens.createCi(as(alice), { owner: 'alice', name: 'site' });
    expect(Date.parse(minted.record.expiresAt ?? '') - Date.parse(minted.record.createdAt)).toBe(15 * 60_000);
  });
});

describe('web sessions', () => {
  it('open with a password only, resolve to the user, and end on close', async () => {
    const alice = await user('alice');
    const opened = await service.sessions.open('alice', 'alice-password', 'addr');
    expect(opened.secret).toMatch(/^berth_session_/);
    await expect(service.sessions.principal(opened.secret)).resolves.toMatchObject({
      kind: 'user',
      userId: alice.id,
      credential: { type: 'session' },
    });
    const pat = await service.tokens.createPersonal(SYSTEM, 'alice', { scopes: ['read:packages'] });
    await refused(service.sessions.open('alice', pat.token, 'addr'), Unauthenticated);
    await refused(service.sessions.open('alice', 'wrong-password', 'addr'), Unauthenticated);
    await service.sessions.close(opened.secret);
    await expect(service.sessions.principal(opened.secret)).resolves.toBeNull();
  });

  it('end when their user is deleted', async () => {
    await user('root', true);
    await user('alice');
    const opened = await service.sessions.open('alice', 'alice-password', 'addr');
    await service.accounts.deleteUser(SYSTEM, 'alice');
    await expect(service.sessions.principal(opened.secret)).resolves.toBeNull();
  });
});
