import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Authenticator } from '../../auth/authenticator';
import type { IdentityService } from '../../auth/identity-service';
import { RouteNotFound } from '../edge-errors';
import { accessTokenRoutes } from './access-token-routes';
import { accountRoutes } from './account-routes';
import { apiAuthenticate } from './api-authenticate';
import { packageRoutes } from './package-routes';
import { repositoryRoutes } from './repository-routes';
import { sessionRoutes } from './session-routes';
import { bodyParserErrors } from '../body-parser-errors';
import type { Actor } from '../../auth/management/actor';
import type { AuditService } from '../../audit/audit-service';
import type { DownloadService } from '../../downloads/download-service';
import { auditRoutes } from './audit-routes';
import { downloadRoutes } from './download-routes';
import type { HookService } from '../../webhooks/hook-service';
import { hookRoutes } from '../github/github-hook-routes';
import { searchRoutes } from './search-routes';
import type { SearchService } from '../../search/search-service';
import type { CollectionService } from '../../gc/collection-service';
import { gcRoutes } from './gc-routes';
import type { ImmutableTagService } from '../../immutability/immutable-tag-service';
import { immutableTagRoutes } from './immutable-tag-routes';
import type { RetentionService } from '../../retention/retention-service';
import { retentionRoutes } from './retention-routes';
import type { QuotaService } from '../../quotas/quota-service';
import { quotaRoutes } from './quota-routes';

export interface ApiDependencies {
  management: IdentityService;
  authenticator: Authenticator;
  /** Download counts of packages; no route without it. */
  downloads?: DownloadService<Actor>;
  /** The audit log; no route without it. */
  audit?: AuditService;
  /** Instance hooks, for site administrators, in GitHub's shapes; no route without it. */
  hooks?: HookService;
  /** Package search; no route without it. */
  search?: SearchService;
  /** Garbage collection on demand (`POST /admin/gc`); no route without it. */
  gc?: CollectionService;
  /** Immutable-tag rules; no route without it. */
  immutableTags?: ImmutableTagService;
  /** Retention policies and runs; no route without it. */
  retention?: RetentionService;
  /** Quotas (usage and limits of users and organisations); no route without it. */
  quotas?: QuotaService;
}

/**
 * The management API, mounted at /api/v1: JSON bodies (64 KiB at most, and
 * only here, never on blob routes), the caller from a session cookie or
 * credentials, then one module per resource. Errors reach the app's one
 * renderer as registry errors.
 */
export function apiRouter(deps: ApiDependencies): Router {
  const router = express.Router();
  router.use(express.json({ limit: '64kb' }));
  router.use(apiAuthenticate(deps.authenticator, deps.management.sessions));
  // Before the package routes, whose `/packages/*name` would take `…/downloads` as part of a name.
  if (deps.downloads) router.use(downloadRoutes(deps.downloads));
  if (deps.audit) router.use(auditRoutes(deps.audit));
  if (deps.hooks) router.use(hookRoutes('/admin', () => ({ kind: 'instance' }), deps.hooks));
  if (deps.search) router.use(searchRoutes(deps.search));
  if (deps.gc) router.use(gcRoutes(deps.gc));
  if (deps.immutableTags) router.use(immutableTagRoutes(deps.immutableTags));
  if (deps.retention) router.use(retentionRoutes(deps.retention));
  if (deps.quotas) router.use(quotaRoutes(deps.quotas));
  router.use(
    sessionRoutes(deps.management),
    accountRoutes(deps.management),
    repositoryRoutes(deps.management),
    packageRoutes(deps.management),
    accessTokenRoutes(deps.management),
  );
  router.use((req: Request, _res: Response, next: NextFunction) => next(new RouteNotFound({ path: req.originalUrl.split('?')[0] })));
  router.use(bodyParserErrors);
  return router;
}
