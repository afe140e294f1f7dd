import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { AccountKind } from '../../auth/stores/account-store';
import type { QuotaService } from '../../quotas/quota-service';
import { quotaReportJson } from '../../quotas/quota-report-json';
import { actorOf, param, parseBody } from './body';

const limit = (min: number) => z.number().int().min(min).max(Number.MAX_SAFE_INTEGER).nullable();
const newLimits = z.strictObject({ max_bytes: limit(0), max_versions_per_package: limit(1) });

/**
 * Quotas (issue #22): `GET /orgs/{org}/quota` and `/users/{user}/quota` (usage, limits in force, the owner's own,
 * and each package's live version count); `PUT` the same with `{"max_bytes", "max_versions_per_package"}` (null:
 * the default; both null forget the owner's own), for site administrators.
 */
export function quotaRoutes(service: QuotaService): Router {
  const router = express.Router();
  for (const [segment, kind] of [
    ['orgs', 'org'],
    ['users', 'user'],
  ] as const satisfies ReadonlyArray<readonly [string, AccountKind]>) {
    router.get(`/${segment}/:name/quota`, async (req: Request, res: Response) => {
      res.json(quotaReportJson(await service.show(actorOf(req), kind, param(req, 'name'))));
    });
    router.put(`/${segment}/:name/quota`, async (req: Request, res: Response) => {
      const body = parseBody(newLimits, req);
      const limits = { maxBytes: body.max_bytes, maxVersionsPerPackage: body.max_versions_per_package };
      res.json(quotaReportJson(await service.set(actorOf(req), kind, param(req, 'name'), limits)));
    });
  }
  return router;
}
