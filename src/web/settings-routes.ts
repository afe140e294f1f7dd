import express, { type Request, type Response, type Router } from 'express';
import { AccessDenied, Unauthenticated } from '../auth/errors';
import { InvalidRequest, PackageNotFound, RepositoryNotFound } from '../auth/management/errors';
import type { PackageAddress } from '../auth/management/package-version-service';
import type { Principal } from '../auth/principal';
import { forms } from './account-routes';
import { settingsBody } from './pages/settings-page';
import { repositoryBody } from './pages/repository-page';
import { field, type PageRenderer, pageNumber, single } from './web-http';
import type { WebAuthDependencies } from './web-router';

/** Settings pages list this many versions of each state a page (`?page=` active, `?deleted_page=` deleted). */
export const SETTINGS_VERSIONS = 50;

const FLASHES: Readonly<Record<string, string>> = {
  visibility: 'The visibility was changed.',
  link: 'The package was linked.',
  unlink: 'The package was unlinked.',
  'version-deleted': 'The version was deleted.',
  'version-restored': 'The version was restored.',
  'package-deleted': 'The package was deleted. It can be restored for a while.',
  'package-restored': 'The package was restored.',
};

/**
 * A package's settings, for its admins: every change is a form POST (CSRF
 * token and origin checked) calling the services the API calls, which decide
 * who may; the page itself is shown to those the package service says may delete.
 */
export function settingsRoutes(auth: WebAuthDependencies, page: PageRenderer): Router {
  const router = express.Router();

  router.get('/-/settings', async (req, res) => {
    const full = single(req, 'package') ?? '';
    const flash = FLASHES[single(req, 'done') ?? ''] ?? null;
    const pages = { active: pageNumber(req, Number.MAX_SAFE_INTEGER), deleted: pageNumber(req, Number.MAX_SAFE_INTEGER, 'deleted_page') };
    await page(req, res, 'Package settings', async (viewer) => {
      const actor = user(viewer.principal);
      const view = await auth.management.packages.show(actor, full);
      if (!view.actions.includes('delete')) throw new AccessDenied('package settings need the admin role on the package');
      const at = await address(full);
      const kind = at.owner.kind === 'org' ? 'org' : 'user';
      const base = { kind, view, csrf: viewer.csrf ?? '', flash } as const;
      try {
        const [active, deleted] = await Promise.all([
          auth.packageVersions.listVersions(actor, at, {
            state: 'active',
            offset: (pages.active - 1) * SETTINGS_VERSIONS,
            limit: SETTINGS_VERSIONS,
          }),
          auth.packageVersions.listVersions(actor, at, {
            state: 'deleted',
            offset: (pages.deleted - 1) * SETTINGS_VERSIONS,
            limit: SETTINGS_VERSIONS,
          }),
        ]);
        return settingsBody({
          ...base,
          active: { versions: active.versions, page: pages.active, pages: pageCount(active.total) },
          deleted: { versions: deleted.versions, page: pages.deleted, pages: pageCount(deleted.total) },
        });
      } catch (err) {
        // A deleted package reads as not found; its admins still get to restore it.
        if (err instanceof PackageNotFound) return settingsBody({ ...base, active: null, deleted: { versions: [], page: 1, pages: 1 } });
        throw err;
      }
    });
  });

  const change = (path: string, done: string, act: (actor: Principal, full: string, req: Request) => Promise<unknown>) =>
    router.post(`/-/settings/${path}`, forms, async (req: Request, res: Response) => {
      await auth.viewers.checkForm(req);
      const viewer = await auth.viewers.viewer(req, res);
      res.locals.viewer = viewer;
      const full = field(req, 'package');
      await act(user(viewer.principal), full, req);
      res.redirect(303, `/-/settings?package=${encodeURIComponent(full)}&done=${done}`);
    });

  change('visibility', 'visibility', (actor, full, req) => {
    const visibility = field(req, 'visibility');
    if (visibility !== 'public' && visibility !== 'private') throw new InvalidRequest('visibility is public or private');
    return auth.management.packages.setVisibility(actor, full, visibility);
  });
  change('link', 'link', (actor, full, req) => auth.management.packages.link(actor, full, field(req, 'repository')));
  change('unlink', 'unlink', (actor, full) => auth.management.packages.unlink(actor, full));
  change('versions/delete', 'version-deleted', async (actor, full, req) => {
    const at = await address(full);
    const id = versionId(req);
    const version = await auth.packageVersions.getVersion(actor, at, id);
    // An index goes with its platforms and their referrers; a signature or SBOM may go alone.
    return auth.packageVersions.deleteVersions(actor, at, [id], { tree: true, detach: version.subject !== null });
  });
  change('versions/restore', 'version-restored', async (actor, full, req) =>
    auth.packageVersions.restoreVersion(actor, await address(full), versionId(req)),
  );
  change('package/delete', 'package-deleted', async (actor, full) => auth.packageVersions.deletePackage(actor, await address(full)));
  change('package/restore', 'package-restored', async (actor, full) => auth.packageVersions.restorePackage(actor, await address(full)));

  // Organisation members: add, change a role, remove (an empty role); the account service decides who may.
  router.post('/-/orgs/members', forms, async (req: Request, res: Response) => {
    await auth.viewers.checkForm(req);
    const viewer = await auth.viewers.viewer(req, res);
    res.locals.viewer = viewer;
    const role = field(req, 'role');
    if (role !== '' && role !== 'member' && role !== 'owner') throw new InvalidRequest('role is member or owner');
    const org = field(req, 'org');
    await auth.management.accounts.setMember(user(viewer.principal), org, field(req, 'user'), role === '' ? null : role);
    res.redirect(303, `/orgs/${encodeURIComponent(org)}/packages?done=members`);
  });

  // Source repositories: visibility and collaborators, for their admins (RepositoryService decides).
  router.get('/-/repositories', async (req, res) => {
    const [owner, name] = repositoryPath(single(req, 'repository') ?? '');
    const flash = single(req, 'done') === 'repository' ? 'The repository was changed.' : null;
    await page(req, res, 'Repository settings', async (viewer) => {
      const actor = user(viewer.principal);
      const view = await auth.management.repositories.show(actor, owner, name);
      const collaborators = await auth.management.repositories.collaborators(actor, owner, name);
      const kind = (await auth.packageVersions.owner(owner)).kind === 'org' ? 'org' : 'user';
      return repositoryBody(view, kind, collaborators, viewer.csrf ?? '', flash);
    });
  });
  const repositoryChange = (path: string, act: (actor: Principal, owner: string, name: string, req: Request) => Promise<unknown>) =>
    router.post(`/-/repositories/${path}`, forms, async (req: Request, res: Response) => {
      await auth.viewers.checkForm(req);
      const viewer = await auth.viewers.viewer(req, res);
      res.locals.viewer = viewer;
      const full = field(req, 'repository');
      const [owner, name] = repositoryPath(full);
      await act(user(viewer.principal), owner, name, req);
      res.redirect(303, `/-/repositories?repository=${encodeURIComponent(full)}&done=repository`);
    });
  repositoryChange('visibility', (actor, owner, name, req) => {
    const visibility = field(req, 'visibility');
    if (visibility !== 'public' && visibility !== 'private') throw new InvalidRequest('visibility is public or private');
    return auth.management.repositories.setVisibility(actor, owner, name, visibility);
  });
  repositoryChange('collaborators', (actor, owner, name, req) => {
    const role = field(req, 'role');
    if (role !== '' && role !== 'read' && role !== 'write' && role !== 'admin') throw new InvalidRequest('role is read, write or admin');
    return auth.management.repositories.setCollaborator(actor, owner, name, field(req, 'user'), role === '' ? null : role);
  });

  /** `owner/rest` as the versions service addresses it. */
  async function address(full: string): Promise<PackageAddress> {
    const slash = full.indexOf('/');
    if (slash <= 0) throw new PackageNotFound('no such package');
    return { owner: await auth.packageVersions.owner(full.slice(0, slash)), name: full.slice(slash + 1) };
  }

  return router;
}

function pageCount(total: number): number {
  return Math.max(1, Math.ceil(total / SETTINGS_VERSIONS));
}

function user(principal: Principal): Principal {
  if (principal.kind !== 'user') throw new Unauthenticated('sign in to manage packages');
  return principal;
}

/** `owner/name` of a source repository; anything else names none. */
function repositoryPath(full: string): [string, string] {
  const match = /^([^/]+)\/([^/]+)$/.exec(full);
  if (!match) throw new RepositoryNotFound('no such repository');
  return [match[1]!, match[2]!];
}

function versionId(req: Request): number {
  const id = field(req, 'id');
  if (!/^\d{1,15}$/.test(id)) throw new InvalidRequest('no such version');
  return Number(id);
}
