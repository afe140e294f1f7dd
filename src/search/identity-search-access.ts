import type { Actor } from '../auth/management/actor';
import type { IdentityStores } from '../auth/stores/identity-stores';
import type { SearchAccess } from './search-index';
import type { SearchAccessResolver } from './search-service';

const PUBLIC_ONLY = { kind: 'some', ownerIds: [], repositoryOwnerIds: [], repositoryIds: [] } as const satisfies SearchAccess;

/**
 * The Authorizer's pull rule (src/auth/authorizer.ts) as sets of ids, so
 * the index can apply it in its query:
 * - everyone pulls public packages;
 * - an unlinked package: its owner, and members and owners of the organisation owning it;
 * - a linked package: the repository's owner, members and owners of the
 *   organisation owning the repository, and its collaborators;
 * - a CI token: its own repository's packages;
 * - a site administrator: everything;
 * - a credential whose scopes hold no pull (a PAT without package scopes): nothing.
 * spec/search/search-service.test.ts checks these sets against Authorizer.decide itself.
 */
export class IdentitySearchAccess implements SearchAccessResolver {
  constructor(private readonly identities: Pick<IdentityStores, 'accounts' | 'repositories'>) {}

  async access(actor: Actor): Promise<SearchAccess> {
    switch (actor.kind) {
      case 'system':
        return { kind: 'all' };
      case 'anonymous':
        return PUBLIC_ONLY;
      case 'ci':
        return { kind: 'some', ownerIds: [], repositoryOwnerIds: [], repositoryIds: [actor.repositoryId] };
      case 'user': {
        if (actor.allowed !== null && !actor.allowed.has('pull')) return { kind: 'none' };
        if (actor.isAdmin) return { kind: 'all' };
        const orgs = await this.identities.accounts.orgsOf(actor.userId);
        const owners = [actor.userId, ...orgs.map((o) => o.orgId)];
        const repositoryIds = await this.identities.repositories.collaborations(actor.userId);
        return { kind: 'some', ownerIds: owners, repositoryOwnerIds: owners, repositoryIds };
      }
    }
  }
}
