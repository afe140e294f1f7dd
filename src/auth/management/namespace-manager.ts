import { AccessDenied } from '../errors';
import type { Account, AccountStore } from '../stores/account-store';
import { isSiteAdmin, requireManager, type Actor, type Manager } from './actor';
import { AccountNotFound } from './errors';

/**
 * Settings of a namespace (immutable-tag rules, retention policies) are managed by whoever owns it: the user of
 * a personal namespace, an organisation's owners, and site administrators; with a full sign-in (not a token).
 * The owner's account, once the actor passes.
 */
export async function requireNamespaceManager(
  accounts: Pick<AccountStore, 'accountByName' | 'orgRole'>,
  actor: Actor,
  ownerName: string,
  what: string,
): Promise<{ owner: Account; manager: Manager }> {
  const manager = requireManager(actor, what);
  const owner = await accounts.accountByName(ownerName);
  if (!owner) throw new AccountNotFound(`no user or organisation ${ownerName.slice(0, 64)}`);
  if (isSiteAdmin(manager) || manager.kind !== 'user') return { owner, manager };
  if (owner.kind === 'user' ? owner.id === manager.userId : (await accounts.orgRole(owner.id, manager.userId)) === 'owner') {
    return { owner, manager };
  }
  throw new AccessDenied(`only ${owner.kind === 'user' ? owner.name : `the owners of ${owner.name}`} may ${what} there`);
}
