import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { PackageVersionService } from '../auth/management/package-version-service';
import type { IdentityService } from '../auth/identity-service';
import { ANONYMOUS } from '../auth/principal';
import { sessionSecret } from '../http/api/api-authenticate';
import { errorAnswer } from '../http/error-mapping';
import type { SearchService } from '../search/search-service';
import type { Html } from './html';
import { layout } from './layout';
import type { PackagePages } from './package-pages';
import type { OwnerFilter, OwnerPages } from './owner-pages';
import { ownerBody } from './pages/owner-page';
import { errorBody, signInBody } from './pages/message-page';
import { packageBody } from './pages/package-page';
import { homeBody, SEARCH_PER_PAGE, searchBody } from './pages/search-page';
import { versionBody } from './pages/version-page';
import { staticRoutes } from './static-assets';
import { clearSessionCookie, PAGE_HEADERS, setSessionCookie, type Viewer, type WebViewers } from './web-viewer';

export interface WebDependencies {
  search: SearchService;
  /** With token auth: sessions, package and account pages. Absent (open mode): home and search only. */
  auth?: {
    viewers: WebViewers;
    management: IdentityService;
    packageVersions: PackageVersionService;
    pages: PackagePages;
    owners: OwnerPages;
  };
}

/** Search pages past this are refused by the search API too: deep offsets cost the database and no person reads them. */
const MAX_SEARCH_PAGE = 1000;
const ANONYMOUS_VIEWER: Viewer = { principal: ANONYMOUS, csrf: null };

/**
 * Berth's web pages (issue #17): server-rendered HTML over the same services
 * as the API. Every page carries a strict CSP (no inline script or style) and
 * is readable without JavaScript; /-/static/berth.js only adds copy buttons.
 * Errors render as pages; a not-found names nothing of what was asked for.
 */
export function webRouter(deps: WebDependencies): Router {
  const router = express.Router();
  const forms = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 });
  const viewerOf = (req: Request, res: Response): Promise<Viewer> =>
    deps.auth ? deps.auth.viewers.viewer(req, res) : Promise.resolve(ANONYMOUS_VIEWER);
  const page = async (req: Request, res: Response, title: string, body: (viewer: Viewer) => Promise<Html> | Html, query?: string) => {
    const viewer = await viewerOf(req, res);
    res.locals.viewer = viewer;
    send(res, 200, layout({ title, viewer, query, body: await body(viewer) }));
  };

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
    router.get('/-/sign-in', async (req, res) => {
      const viewer = await viewerOf(req, res);
      send(res, 200, layout({ title: 'Sign in', viewer, body: signInBody(viewer.csrf, null, nextPath(single(req, 'next'))) }));
    });
    router.post('/-/sign-in', forms, async (req, res) => {
      await auth.viewers.checkForm(req);
      const body = req.body as Record<string, unknown>;
      const next = nextPath(typeof body.next === 'string' ? body.next : undefined);
      try {
        const opened = await auth.management.sessions.open(text(body.username), text(body.password), req.ip ?? '');
        setSessionCookie(req, res, opened.secret, auth.management.sessions.ttlMs);
        res.set('Cache-Control', 'no-store').redirect(303, next);
      } catch (err) {
        const answer = errorAnswer(err, 'management');
        if (answer.status >= 500) throw err;
        const problem = answer.status === 429 ? answer.message : 'Wrong user name or password.';
        send(res, answer.status, layout({ title: 'Sign in', viewer: ANONYMOUS_VIEWER, body: signInBody(null, problem, next) }));
      }
    });
    router.post('/-/sign-out', forms, async (req, res) => {
      await auth.viewers.checkForm(req);
      const viewer = await auth.viewers.viewer(req, res);
      if (viewer.principal.kind === 'user') {
        const secret = sessionSecret(req);
        if (secret) await auth.management.sessions.close(secret);
      }
      clearSessionCookie(req, res);
      res.redirect(303, '/');
    });

    for (const [segment, kind] of [
      ['orgs', 'org'],
      ['users', 'user'],
    ] as const) {
      router.get(`/${segment}/:owner/packages`, async (req, res) => {
        const owner = param(req, 'owner');
        const filter = ownerFilter(req);
        await page(req, res, owner, async (viewer) => ownerBody(await auth.owners.ownerPage(viewer.principal, owner, kind, filter)));
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
    send(res, answer.status, layout({ title, viewer, body: errorBody(answer.status, answer.message) }));
  });
  return router;
}

function send(res: Response, status: number, page: string): void {
  res
    .status(status)
    .set(PAGE_HEADERS)
    // Pages show what the viewer may see: never stored by a shared cache.
    .set({ 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'private, no-cache', Vary: 'Cookie' })
    .send(page);
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

/** A form field as text; a missing or repeated one is empty. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function single(req: Request, key: string): string | undefined {
  const value = (req.query as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : undefined;
}

/** `?page=` from 1; anything else is the first page. */
function pageNumber(req: Request, max: number): number {
  const value = single(req, 'page') ?? '1';
  const n = /^\d{1,7}$/.test(value) ? Number(value) : 1;
  return Math.min(Math.max(1, n), max);
}

function param(req: Request, key: string): string {
  const value = (req.params as Record<string, string | string[] | undefined>)[key];
  return Array.isArray(value) ? value.join('/') : (value ?? '');
}

/** Where to go after signing in: a path on this site only (no `//host` or `/\\host` escape). */
function nextPath(value: string | undefined): string {
  return value && /^\/(?![/\\])[^\s]*$/.test(value) ? value : '/';
}
