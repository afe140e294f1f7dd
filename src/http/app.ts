import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../log';
import type { BlobService } from '../registry/blob-service';
import type { ListingService } from '../registry/listing-service';
import type { ArchiveExporter } from '../transfer/archive-export';
import type { ArchiveImporter } from '../transfer/archive-import';
import type { Promotion } from '../transfer/promotion';
import { transferRoutes } from './transfer-routes';
import type { ManifestService } from '../registry/manifest-service';
import type { ReferrerService } from '../registry/referrer-service';
import type { UploadService } from '../registry/upload-service';
import { RouteNotFound } from './edge-errors';
import type { RouteHandlers } from './handler';
import { baseHandlers } from './handlers/base';
import { blobHandlers, type BlobFiller } from './handlers/blobs';
import { listingHandlers } from './handlers/listings';
import { manifestHandlers } from './handlers/manifests';
import { referrerHandlers } from './handlers/referrers';
import { uploadHandlers } from './handlers/uploads';
import { renderErrors } from './middleware/errors';
import { requestContext } from './middleware/request-context';
import { createHttpMetrics, type HttpMetrics } from './metrics';
import { readinessHandler, type ReadinessCheck } from './readiness';
import { v2Router, type RouteGuard } from './v2-router';
import { authenticate, enforce, type AuthDependencies } from './middleware/authenticate';
import { tokenRoutes, type TokenRouteDependencies } from './token-routes';
import { apiRouter, type ApiDependencies } from './api/api-router';
import { searchRoutes } from './api/search-routes';
import type { SearchService } from '../search/search-service';
import { API_PREFIX } from './api/api-prefix';
import { GITHUB_API_PREFIX, githubRouter } from './github/github-router';
import type { PackageVersionService } from '../auth/management/package-version-service';
import { ROUTE_ACTIONS } from './routes';
import type { AccessAction } from '../auth/access-control';
import { ANONYMOUS } from '../auth/principal';
import { chain } from './chain';
import { expressObjectClasses, type ExpressObjectClasses } from './express-objects';
import { webRouter, type WebDependencies } from '../web/web-router';

export interface HttpDependencies {
  log: Logger;
  blobs: BlobService;
  uploads: UploadService;
  manifests: ManifestService;
  listing: ListingService;
  /** Image archive import and export (issue #21). */
  transfer?: { importer: ArchiveImporter; exporter: ArchiveExporter; promotion: Promotion };
  referrers: ReferrerService;
  /** Absent in open mode: then every request may do everything. */
  auth?: AuthDependencies &
    TokenRouteDependencies &
    Partial<Pick<ApiDependencies, 'management' | 'downloads' | 'audit' | 'hooks' | 'gc' | 'immutableTags' | 'retention' | 'quotas'>> & {
      /** GitHub's packages API at /api/v3 (issue #15); absent, /api/v3 is not served. */
      packageVersions?: PackageVersionService;
    };
  /** Package search at /api/v1/search/packages; in open mode too, where it is the only /api/v1 route. */
  search?: SearchService;
  /** The web pages (issue #17): home and search always, package and account pages with auth. */
  web?: WebDependencies;
  /** What /readyz probes (Redis, blob storage, the metadata database); none means always ready. */
  readiness?: ReadonlyArray<ReadinessCheck>;
  /** Served at /metrics; a fresh set (with process metrics) when not given. */
  metrics?: HttpMetrics;
  /** Pull-through caches (src/proxy): blobs filled from upstreams, and writes refused under their prefixes. */
  pullThrough?: { blobs: BlobFiller; refuseWrite(method: string, name: string | undefined): void };
}

/**
 * Berth's request listener. Registry requests (/v2) take a fixed chain of
 * middleware with no router in between; everything else (the token
 * endpoint, the management API, health and metrics) goes through an Express
 * app. Both use Express's request and response helpers; pass
 * `IncomingMessage`/`ServerResponse` to `http.createServer` so requests are
 * born with them (see express-objects.ts for why that matters).
 */
export interface HttpApp {
  (req: IncomingMessage, res: ServerResponse): void;
  readonly IncomingMessage: ExpressObjectClasses['IncomingMessage'];
  readonly ServerResponse: ExpressObjectClasses['ServerResponse'];
}

/** No body parsers on the registry routes: bodies are streams. */
export function createHttpApp(deps: HttpDependencies): HttpApp {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');
  const objects = expressObjectClasses(app);

  const auth = deps.auth;
  const handlers: RouteHandlers = mergeHandlers(
    baseHandlers(),
    blobHandlers(deps.blobs, deps.pullThrough?.blobs),
    uploadHandlers(
      deps.uploads,
      deps.blobs,
      // The mount source is checked against the live model for the verified caller, not the
      // token's claim: clients (the OCI suite's among them) ask for a token scoped to the target only.
      auth ? (req, from) => auth.access.canPull(req.auth?.principal ?? ANONYMOUS, from) : undefined,
    ),
    manifestHandlers(deps.manifests),
    listingHandlers(deps.listing, auth ? (req) => (name) => auth.access.canPull(req.auth?.principal ?? ANONYMOUS, name) : undefined),
    referrerHandlers(deps.referrers),
  );

  const metrics = deps.metrics ?? createHttpMetrics();
  const context = requestContext(deps.log);
  const measure = metrics.middleware();
  const errors = renderErrors();

  let guard: RouteGuard | undefined;
  if (auth) {
    guard = async (req, match) => {
      const needed = ROUTE_ACTIONS[match.route][req.method];
      const action: AccessAction = needed === undefined || needed === 'none' ? 'login' : needed;
      await enforce(req, auth, action, match.name);
    };
  }
  const pullThrough = deps.pullThrough;
  if (pullThrough) {
    // Before authorization: a push into a cache is refused the same way for everyone, with why.
    const authorize = guard;
    guard = async (req, match) => {
      pullThrough.refuseWrite(req.method, match.name);
      await authorize?.(req, match);
    };
  }
  const registry = chain([context, measure, ...(auth ? [authenticate(auth)] : []), v2Router(handlers, guard), notFound], errors);

  app.use(context);
  app.use(measure);
  app.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });
  app.get('/readyz', readinessHandler(deps.readiness ?? []));
  app.get('/metrics', metrics.handler());
  // Image tarballs, in open mode too (where anyone may push): before the management API's catch-all.
  if (deps.transfer) app.use(API_PREFIX, transferRoutes({ ...deps.transfer, auth }));
  if (auth) {
    app.use(tokenRoutes(auth));
    // The management API: JSON bodies there only, never on the blob routes.
    if (auth.management) {
      const { management, authenticator, downloads, audit, hooks, gc, immutableTags, retention, quotas } = auth;
      app.use(
        API_PREFIX,
        apiRouter({ management, authenticator, downloads, audit, hooks, gc, immutableTags, retention, quotas, search: deps.search }),
      );
    }
    if (auth.management && auth.packageVersions) {
      const github = {
        packages: auth.packageVersions,
        authenticator: auth.authenticator,
        sessions: auth.management.sessions,
        hooks: auth.hooks,
      };
      app.use(GITHUB_API_PREFIX, githubRouter(github));
    }
  }
  if (!auth?.management && deps.search) app.use(API_PREFIX, searchRoutes(deps.search));
  if (deps.web) app.use(webRouter(deps.web));
  app.use(notFound);
  app.use(errors);

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    objects.adopt(req, res);
    if (isRegistryPath(req.url ?? '')) registry(req as Request, res as Response);
    else app(req, res);
  };
  return Object.assign(listener, { IncomingMessage: objects.IncomingMessage, ServerResponse: objects.ServerResponse });
}

/** /v2, /v2/… and /v2?…: the registry API (the v2 router answers paths it does not know with NOT_FOUND). */
function isRegistryPath(url: string): boolean {
  return url.startsWith('/v2') && (url.length === 3 || url[3] === '/' || url[3] === '?');
}

const notFound = (req: Request, _res: Response, next: NextFunction): void => next(new RouteNotFound({ path: req.path }));

function mergeHandlers(...parts: RouteHandlers[]): RouteHandlers {
  const merged: RouteHandlers = {};
  for (const part of parts) {
    for (const [route, methods] of Object.entries(part) as Array<[keyof RouteHandlers, RouteHandlers[keyof RouteHandlers]]>) {
      merged[route] = { ...merged[route], ...methods };
    }
  }
  return merged;
}
