import express, { type Express } from 'express';
import type { Logger } from '../log';
import type { BlobService } from '../registry/blob-service';
import type { ListingService } from '../registry/listing-service';
import type { ManifestService } from '../registry/manifest-service';
import type { ReferrerService } from '../registry/referrer-service';
import type { UploadService } from '../registry/upload-service';
import { RegistryError } from '../oci/errors';
import type { RouteHandlers } from './handler';
import { baseHandlers } from './handlers/base';
import { blobHandlers } from './handlers/blobs';
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
import { ROUTE_ACTIONS } from './routes';
import type { AccessAction } from '../auth/access-control';
import { ANONYMOUS } from '../auth/principal';

export interface HttpDependencies {
  log: Logger;
  blobs: BlobService;
  uploads: UploadService;
  manifests: ManifestService;
  listing: ListingService;
  referrers: ReferrerService;
  /** Absent in open mode: then every request may do everything. */
  auth?: AuthDependencies & TokenRouteDependencies & { management?: ApiDependencies['management'] };
  /** What /readyz probes (Redis, blob storage, the metadata database); none means always ready. */
  readiness?: ReadonlyArray<ReadinessCheck>;
  /** Served at /metrics; a fresh set (with process metrics) when not given. */
  metrics?: HttpMetrics;
}

/** The Express application: middleware, the v2 route table, one error renderer. No body parsers: bodies are streams. */
export function createHttpApp(deps: HttpDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');

  const auth = deps.auth;
  const handlers: RouteHandlers = mergeHandlers(
    baseHandlers(),
    blobHandlers(deps.blobs),
    uploadHandlers(
      deps.uploads,
      deps.blobs,
      // The mount source is checked against the live model for the verified caller, not the
      // token's claim: clients (the OCI suite's among them) ask for a token scoped to the target only.
      auth ? (req, from) => auth.access.canPull(req.auth?.principal ?? ANONYMOUS, from) : undefined,
    ),
    manifestHandlers(deps.manifests),
    listingHandlers(
      deps.listing,
      auth ? (req) => (name) => auth.access.canPull(req.auth?.principal ?? ANONYMOUS, name) : undefined,
    ),
    referrerHandlers(deps.referrers),
  );

  const metrics = deps.metrics ?? createHttpMetrics();
  app.use(requestContext(deps.log));
  app.use(metrics.middleware());
  app.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });
  app.get('/readyz', readinessHandler(deps.readiness ?? []));
  app.get('/metrics', metrics.handler());
  let guard: RouteGuard | undefined;
  if (auth) {
    app.use(tokenRoutes(auth));
    // The management API: JSON bodies there only, never on the blob routes.
    if (auth.management) app.use('/api/v1', apiRouter({ management: auth.management, authenticator: auth.authenticator }));
    app.use(['/v2', '/v2/*rest'], authenticate(auth));
    guard = async (req, match) => {
      const needed = ROUTE_ACTIONS[match.route][req.method];
      const action: AccessAction = needed === undefined || needed === 'none' ? 'login' : needed;
      await enforce(req, auth, action, match.name);
    };
  }
  app.use(v2Router(handlers, guard));
  app.use((req, _res, next) => next(new RegistryError('NOT_FOUND', { path: req.path })));
  app.use(renderErrors());
  return app;
}

function mergeHandlers(...parts: RouteHandlers[]): RouteHandlers {
  const merged: RouteHandlers = {};
  for (const part of parts) {
    for (const [route, methods] of Object.entries(part) as Array<[keyof RouteHandlers, RouteHandlers[keyof RouteHandlers]]>) {
      merged[route] = { ...merged[route], ...methods };
    }
  }
  return merged;
}
