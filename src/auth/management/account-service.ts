import type { Account, OrgRole } from '../stores/account-store';
import type { IdentityStores } from '../stores/identity-stores';
import { NameTakenError } from '../../persistence/unique-violation';
import { hashPassword, verifyPassword } from '../secrets';
import { type Actor, isSiteAdmin, requireManager } from './actor';
import { UserNotFound, OrganizationNotFound, NameTaken, StillNeeded, InvalidRequest } from './errors';
import { AccessDenied, Unauthenticated } from '../errors';
import { assertAccountName, assertPassword } from './names';
import { NO_AUDIT_LOG, type AuditLog } from '../../audit/audit-log';

export interface UserView {
  name: string;
  admin: boolean;
  createdAt: string;
  orgs: Array<{ name: string; role: OrgRole }>;
}

export interface OrgView {
  name: string;
  createdAt: string;
  /** Listed to the organisation's members and site administrators only. */
  members?: Array<{ name: string; role: OrgRole }>;
}

/**
 * Users and organisations: site administrators create and delete users,
 * everyone sets their own password, any user creates organisations (and
 * owns them), organisation owners manage members.
 */
export class AccountService {
  constructor(
    private readonly identities: Pick<IdentityStores, 'accounts' | 'packages'>,
    private readonly audit: AuditLog = NO_AUDIT_LOG,
  ) {}

  async me(actor: Actor): Promise<UserView> {
    if (actor.kind !== 'user') throw new Unauthenticated('no user is signed in');
    return this.view(await this.existingUser(actor.name));
  }

  async listUsers(actor: Actor): Promise<UserView[]> {
    if (!isSiteAdmin(actor)) throw new AccessDenied('only administrators list users');
    return Promise.all((await this.identities.accounts.listAccounts('user')).map((u) => this.view(u)));
  }

  async user(actor: Actor, name: string): Promise<UserView> {
    const user = await this.existingUser(name);
    if (!isSiteAdmin(actor) && !(actor.kind === 'user' && actor.userId === user.id))
      throw new AccessDenied('only administrators see other users');
    return this.view(user);
  }

  async createUser(actor: Actor, input: { name: string; password: string; admin?: boolean }): Promise<UserView> {
    requireManager(actor, 'create users');
    if (!isSiteAdmin(actor)) throw new AccessDenied('only administrators create users');
    assertAccountName(input.name);
    assertPassword(input.password);
    await this.assertNameFree(input.name);
    const hash = await hashPassword(input.password);
    try {
      return this.view(await this.identities.accounts.createAccount(input.name, 'user', hash, input.admin === true));
    } catch (err) {
      if (err instanceof NameTakenError) throw new NameTaken(`the name "${input.name}" is taken`);
      throw err;
    }
  }

  /**
   * Users set their own password (proving the current one), administrators
   * reset anyone's; the CLI resets any.
   */
  async setPassword(actor: Actor, name: string, password: string, currentPassword?: string): Promise<void> {
    const manager = requireManager(actor, 'change passwords');
    const user = await this.existingUser(name);
    const self = manager.kind === 'user' && manager.userId === user.id;
    if (!self && !isSiteAdmin(manager)) throw new AccessDenied("only administrators change other users' passwords");
    if (self) {
      if (currentPassword === undefined || !user.passwordHash || !(await verifyPassword(currentPassword, user.passwordHash))) {
        throw new AccessDenied('the current password is wrong');
      }
    }
    assertPassword(password);
    await this.identities.accounts.setPassword(user.id, await hashPassword(password));
  }

  /**
   * Deletes a user with their tokens, sessions, memberships and repositories. The last
   * administrator stays, and so does a user who still owns packages: deleting the account
   * would drop the packages' ownership records while their images stay, and whoever took
   * the name next would own them.
   */
  async deleteUser(actor: Actor, name: string): Promise<void> {
    requireManager(actor, 'delete users');
    if (!isSiteAdmin(actor)) throw new AccessDenied('only administrators delete users');
    const user = await this.existingUser(name);
    const owned = await this.identities.packages.listPackages({ ownerId: user.id });
    if (owned.length > 0) {
      throw new StillNeeded(`"${name}" still owns ${owned.length} package(s), e.g. ${owned[0]!.name}; delete or move them first`);
    }
    if (user.isAdmin) {
      const admins = (await this.identities.accounts.listAccounts('user')).filter((u) => u.isAdmin);
      if (admins.length <= 1) throw new StillNeeded(`"${name}" is the last administrator`);
    }
    await this.identities.accounts.deleteAccount(user.id);
  }

  /** Any user creates an organisation and becomes its owner; the CLI names the owner. */
  async createOrg(actor: Actor, name: string, ownerName?: string): Promise<OrgView> {
    const manager = requireManager(actor, 'create organisations');
    assertAccountName(name);
    let ownerId: number;
    if (manager.kind === 'user' && ownerName === undefined) ownerId = manager.userId;
    else {
      if (ownerName === undefined) throw new InvalidRequest('an organisation needs an owner');
      const owner = await this.existingUser(ownerName);
      if (manager.kind === 'user' && owner.id !== manager.userId && !manager.isAdmin) {
        throw new AccessDenied('only administrators create organisations owned by someone else');
      }
      ownerId = owner.id;
    }
    await this.assertNameFree(name);
    let org: Account;
    try {
      org = await this.identities.accounts.createAccount(name, 'org', null, false);
    } catch (err) {
      if (err instanceof NameTakenError) throw new NameTaken(`the name "${name}" is taken`);
      throw err;
    }
    await this.identities.accounts.setOrgMember(org.id, ownerId, 'owner');
    return this.orgView(org, true);
  }

  /** The organisations the caller belongs to; administrators and the CLI see all. */
  async listOrgs(actor: Actor): Promise<OrgView[]> {
    if (isSiteAdmin(actor)) {
      return Promise.all((await this.identities.accounts.listAccounts('org')).map((o) => this.orgView(o, false)));
    }
    if (actor.kind !== 'user') throw new Unauthenticated('sign in to list organisations');
    const mine = await this.identities.accounts.orgsOf(actor.userId);
    const orgs = await Promise.all(mine.map((m) => this.identities.accounts.accountById(m.orgId)));
    return Promise.all(orgs.filter((o): o is Account => o !== null).map((o) => this.orgView(o, false)));
  }

  async org(actor: Actor, name: string): Promise<OrgView> {
    const org = await this.existingOrg(name);
    const member = actor.kind === 'user' && (await this.identities.accounts.orgRole(org.id, actor.userId)) !== null;
    return this.orgView(org, member || isSiteAdmin(actor));
  }

  /** Organisation owners (and administrators) add, re-role and remove members; an organisation keeps one owner at least. */
  async setMember(actor: Actor, orgName: string, userName: string, role: OrgRole | null): Promise<OrgView> {
    const manager = requireManager(actor, 'manage organisation members');
    const org = await this.existingOrg(orgName);
    if (manager.kind === 'user' && !manager.isAdmin && (await this.identities.accounts.orgRole(org.id, manager.userId)) !== 'owner') {
      throw new AccessDenied(`only owners of "${orgName}" manage its members`);
    }
    const user = await this.existingUser(userName);
    const current = await this.identities.accounts.orgRole(org.id, user.id);
    if (current === 'owner' && role !== 'owner') {
      const owners = (await this.identities.accounts.orgMembers(org.id)).filter((m) => m.role === 'owner');
      if (owners.length <= 1) throw new StillNeeded(`"${userName}" is the last owner of "${orgName}"`);
    }
    await this.identities.accounts.setOrgMember(org.id, user.id, role);
    await this.audit.record({
      action: 'org.member',
      actor,
      target: { owner: org.name },
      details: { user: user.name, from: current, to: role },
    });
    return this.orgView(org, true);
  }

  async existingUser(name: string): Promise<Account> {
    const account = await this.identities.accounts.accountByName(name);
    if (!account || account.kind !== 'user') throw new UserNotFound(`no user "${name}"`);
    return account;
  }

  private async existingOrg(name: string): Promise<Account> {
    const account = await this.identities.accounts.accountByName(name);
    if (!account || account.kind !== 'org') throw new OrganizationNotFound(`no organisation "${name}"`);
    return account;
  }

  private async assertNameFree(name: string): Promise<void> {
    if (await this.identities.accounts.accountByName(name)) throw new NameTaken(`the name "${name}" is taken`);
  }

  private async view(user: Account): Promise<UserView> {
    const orgs = await this.identities.accounts.orgsOf(user.id);
    return {
      name: user.name,
      admin: user.isAdmin,
      createdAt: new Date(user.createdAt).toISOString(),
      orgs: orgs.map((o) => ({ name: o.name, role: o.role })),
    };
  }

  private async orgView(org: Account, withMembers: boolean): Promise<OrgView> {
    const view: OrgView = { name: org.name, createdAt: new Date(org.createdAt).toISOString() };
    if (withMembers) view.members = (await this.identities.accounts.orgMembers(org.id)).map((m) => ({ name: m.name, role: m.role }));
    return view;
  }
}
