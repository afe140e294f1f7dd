export type AccountKind = 'user' | 'org';
export type OrgRole = 'owner' | 'member';

export interface Account {
  id: number;
  name: string;
  kind: AccountKind;
  passwordHash: string | null;
  isAdmin: boolean;
  createdAt: number;
}

/** Users and organisations (one namespace of names) and who belongs to which organisation. */
export interface AccountStore {
  /** Throws NameTakenError when a user or organisation already has the name. */
  createAccount(name: string, kind: AccountKind, passwordHash: string | null, isAdmin: boolean): Promise<Account>;
  accountByName(name: string): Promise<Account | null>;
  accountById(id: number): Promise<Account | null>;
  /** Ordered by name. */
  listAccounts(kind: AccountKind): Promise<Account[]>;
  /** Users only; an organisation has no password. */
  setPassword(userId: number, passwordHash: string): Promise<void>;
  /** Users only. */
  setAdmin(userId: number, isAdmin: boolean): Promise<void>;
  /** Deletes the account with its memberships; false when there was none. */
  deleteAccount(id: number): Promise<boolean>;

  /** Sets a member's role; `null` removes the member. */
  setOrgMember(orgId: number, userId: number, role: OrgRole | null): Promise<void>;
  orgRole(orgId: number, userId: number): Promise<OrgRole | null>;
  /** Ordered by the member's name. */
  orgMembers(orgId: number): Promise<Array<{ userId: number; name: string; role: OrgRole }>>;
  /** Ordered by the organisation's name. */
  orgsOf(userId: number): Promise<Array<{ orgId: number; name: string; role: OrgRole }>>;
}
