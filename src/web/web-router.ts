import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { PackageVersionService } from '../auth/management/package-version-service';
import type { IdentityService } from '../auth/identity-service';
import { errorAnswer } from '../http/error-mapping';
import type { SearchService } from '../search/search-service';
import type { HookService } from '../webhooks/hook-service';
import { accountRoutes } from './account-routes';
import { hookRoutes } from './hook-routes';
import { layout } from './layout';
import type { OwnerFilter, OwnerPages } from './owner-pages';
import type { PackagePages } from './package-pages';
import { errorBody } from './pages/message-page';
import { ownerBody } from './pages/owner-page';
import { packageBody } from './pages/package-page';
import { homeBody, SEARCH_PER_PAGE, searchBody } from './pages/search-page';
import { versionBody } from './pages/version-page';
import { settingsRoutes } from './settings-routes';
import { staticRoutes } from './static-assets';
import { ANONYMOUS_VIEWER, pageNumber, pageRenderer, param, send, single } from './web-http';
import type { Viewer, WebViewers } from './web-viewer';

export interface WebDependencies {
  search: SearchService;
  /** With token auth: sessions, package, owner, account and settings pages. Absent (open mode): home and search only. */
  auth?: WebAuthDependencies;
}

export interface WebAuthDependencies {
  viewers: WebViewers;
  management: IdentityService;
  packageVersions: PackageVersionService;
  pages: PackagePages;
  owners: OwnerPages;
  /** The webhook settings pages manage hooks through the service the hooks API uses. */
  hooks: HookService;
}

/** Search pages past this are refused by the search API too: deep offsets cost the database and no person reads them. */
const MAX_SEARCH_PAGE = 1000;

/**
 * Berth's web pages (issue #17): server-rendered HTML over the same services
 * as the API. Every page carries a strict CSP (no inline script or style) and
 * is readable without JavaScript; /-/static/berth.js only adds copy buttons.
 * Errors render as pages; a not-found names nothing of what was asked for.
 */
export function webRouter(deps: WebDependencies): Router {
  const router = express.Router();
  const page = pageRenderer(deps.auth?.viewers);

  router.use(staticRoutes());

  router.get('/', (req, res) =>
    page(req, res, 'Packages', async (viewer) => homeBody(await deps.search.search(viewer.principal, '', 1, SEARCH_PER_PAGE))),
  );

  router.get('/search', (req, res) => {
    const q = single(req, 'q') ?? '';
    const n = pageNumber(req, MAX_SEARCH_PAGE);
    return page(
      req,
      res,
      q ? `${q} – search` : 'Search',
      async (viewer) => searchBody(q, n, await deps.search.search(viewer.principal, q, n, SEARCH_PER_PAGE)),
      q,
    );
  });

  const auth = deps.auth;
  if (auth) {
    router.use(accountRoutes(auth, page));
    router.use(settingsRoutes(auth, page));
    router.use(hookRoutes(auth, page));
    for (const [segment, kind] of [
      ['orgs', 'org'],
      ['users', 'user'],
    ] as const) {
      router.get(`/${segment}/:owner/packages`, async (req, res) => {
        const owner = param(req, 'owner');
        const filter = ownerFilter(req);
        const flash = single(req, 'done') === 'members' ? 'The members were changed.' : null;
        await page(req, res, owner, async (viewer) => {
          const data = await auth.owners.ownerPage(viewer.principal, owner, kind, filter);
          return ownerBody(data, data.manageMembers && viewer.csrf ? { csrf: viewer.csrf } : null, flash);
        });
      });
      router.get(`/${segment}/:owner/packages/container/package/*name`, async (req, res) => {
        const owner = param(req, 'owner');
        const name = param(req, 'name');
        const n = pageNumber(req, Number.MAX_SAFE_INTEGER);
        const tag = single(req, 'tag');
        await page(req, res, name, async (viewer) => {
          const data = await auth.pages.packagePage(viewer.principal, owner, kind, name, n, tag);
          const view = await auth.management.packages.show(viewer.principal, data.summary.fullName);
          return packageBody(data, req.get('host') ?? 'localhost', view.actions.includes('delete'));
        });
      });
      router.get(`/${segment}/:owner/packages/container/:name/:id`, async (req, res, next) => {
        const id = param(req, 'id');
        if (!/^\d{1,15}$/.test(id)) return next();
        await page(req, res, `${param(req, 'name')} version ${id}`, async (viewer) =>
          versionBody(await auth.pages.versionPage(viewer.principal, param(req, 'owner'), kind, param(req, 'name'), Number(id))),
        );
      });
    }
  }

  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const answer = errorAnswer(err, 'management');
    if (answer.log === 'error') req.log.error({ err }, 'page failed');
    const viewer = (res.locals.viewer as Viewer | undefined) ?? ANONYMOUS_VIEWER;
    const title = answer.status === 404 ? 'Not found' : 'Error';
    send(res, answer.status, layout({ title, viewer, body: errorBody(answer.status, reason(answer.detail) ?? answer.message) }));
  });
  return router;
}

/** The owner page's filters from its query; anything it does not know is no filter. */
function ownerFilter(req: Request): OwnerFilter {
  const visibility = single(req, 'visibility');
  const repository = single(req, 'repo');
  const tagged = single(req, 'tagged');
  const sort = single(req, 'sort');
  return {
    visibility: visibility === 'public' || visibility === 'private' ? visibility : undefined,
    repository: repository && /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\/[A-Za-z0-9._-]{1,128}$/.test(repository) ? repository : undefined,
    tagged: tagged === 'yes' ? true : tagged === 'no' ? false : undefined,
    sort: sort === 'downloads' || sort === 'name' ? sort : 'updated',
    page: pageNumber(req, Number.MAX_SAFE_INTEGER),
  };
}

/** A refusal's own sentence (a DomainError's detail, or its `reason`), which says more than its code's message. */
function reason(detail: unknown): string | null {
  if (typeof detail === 'string') return detail;
  const inner = typeof detail === 'object' && detail !== null ? (detail as { reason?: unknown }).reason : undefined;
  return typeof inner === 'string' ? inner : null;
}
