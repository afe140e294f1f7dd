import { isSiteAdmin, type Actor } from '../auth/management/actor';
import type { IdentityService } from '../auth/identity-service';
import type { PackageVersionService } from '../auth/management/package-version-service';
import type { RepositoryView } from '../auth/management/repository-service';
import type { PackageOrder, SearchHit } from '../search/search-index';
import type { SearchService } from '../search/search-service';

export type OwnerSort = PackageOrder;

export interface OwnerFilter {
  visibility?: 'public' | 'private';
  /** `owner/name` of a linked source repository. */
  repository?: string;
  tagged?: boolean;
  sort: OwnerSort;
  page: number;
}

export interface OwnerPage {
  owner: { name: string; kind: 'user' | 'org' };
  filter: OwnerFilter;
  packages: SearchHit[];
  total: number;
  pages: number;
  /** Null when the viewer may not see who belongs (outsiders of an organisation), or for a user. */
  members: Array<{ name: string; role: string }> | null;
  /** Whether the viewer may add and remove members (an owner of the organisation or a site administrator). */
  manageMembers: boolean;
  repositories: RepositoryView[];
}

export const OWNER_PER_PAGE = 30;

/**
 * An organisation's or user's page: their packages the viewer may see (through
 * the search service, so the same access rule and index as /search), filtered
 * and sorted here, their members and their source repositories.
 */
export class OwnerPages {
  constructor(private readonly deps: { search: SearchService; packages: PackageVersionService; management: IdentityService }) {}

  async ownerPage(actor: Actor, login: string, kind: 'user' | 'org', filter: OwnerFilter): Promise<OwnerPage> {
    const owner = await this.deps.packages.owner(login, kind);
    const qualifiers = [`${kind}:${owner.name}`];
    if (filter.visibility) qualifiers.push(`is:${filter.visibility}`);
    if (filter.repository) qualifiers.push(`repo:${filter.repository}`);
    // One page, filtered, sorted and cut by the index: an owner of 10k packages costs what one of 30 does.
    const found = await this.deps.search.search(actor, qualifiers.join(' '), filter.page, OWNER_PER_PAGE, {
      order: filter.sort,
      ...(filter.tagged !== undefined ? { tagged: filter.tagged } : {}),
    });
    const members = kind === 'org' ? ((await this.deps.management.accounts.org(actor, owner.name)).members ?? null) : null;
    const repositories = (await this.deps.management.repositories.list(actor)).filter((r) => r.owner === owner.name);
    return {
      owner: { name: owner.name, kind },
      filter,
      packages: found.hits,
      total: found.total,
      pages: Math.max(1, Math.ceil(found.total / OWNER_PER_PAGE)),
      members,
      manageMembers:
        members !== null &&
        (isSiteAdmin(actor) || (actor.kind === 'user' && members.some((m) => m.name === actor.name && m.role === 'owner'))),
      repositories,
    };
  }
}
