import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { InvalidRequest } from '../../auth/management/errors';
import type { RetentionDecision } from '../../retention/retention-planner';
import type { RetentionPolicy, RetentionRules } from '../../retention/retention-policy';
import type { RetentionReport } from '../../retention/retention-runner';
import type { PolicyAddress, RetentionService } from '../../retention/retention-service';
import { RouteNotFound } from '../edge-errors';
import { actorOf, param, parseBody } from './body';

const days = z.number().int().min(1).max(36_500);
const policyBody = z.strictObject({
  keep_tagged: z
    .array(z.strictObject({ pattern: z.string().min(1), count: z.number().int().min(0).max(100_000) }))
    .max(32)
    .optional(),
  delete_untagged_after_days: days.nullable().optional(),
  keep_highest_semver: z.boolean().optional(),
  keep_pulled_within_days: days.nullable().optional(),
  exclude_tags: z.array(z.string()).max(32).optional(),
  detach_referrers: z.boolean().optional(),
});

/** The three places a policy lives, each with its policy and its runs. */
const PLACES: Array<{ path: string; address: (req: Request) => PolicyAddress }> = [
  { path: '/orgs/:org', address: (req) => ({ kind: 'organisation', name: param(req, 'org') }) },
  { path: '/users/:user', address: (req) => ({ kind: 'user', name: param(req, 'user') }) },
  { path: '/packages/*name', address: (req) => ({ kind: 'package', name: param(req, 'name') }) },
];

/**
 * Retention policies (issue #22): `GET|PUT|DELETE /orgs/{org}/retention-policy`, `/users/{user}/…` and
 * `/packages/{owner/name}/…` (a package's own overrides its owner's whole); `POST …/retention-runs?dry_run=true`
 * runs the policies of that owner's packages (or the one package) now, answering what it deleted (or would) and why.
 * Mounted before the package routes, whose `/packages/*name` would take `…/retention-policy` as part of a name.
 */
export function retentionRoutes(service: RetentionService): Router {
  const router = express.Router();
  for (const { path, address } of PLACES) {
    router.get(`${path}/retention-policy`, async (req: Request, res: Response) => {
      const policy = await service.get(actorOf(req), address(req));
      if (!policy) throw new RouteNotFound({ path: req.originalUrl.split('?')[0] });
      res.json(shapePolicy(policy, address(req)));
    });
    router.put(`${path}/retention-policy`, async (req: Request, res: Response) => {
      const at = address(req);
      res.json(shapePolicy(await service.put(actorOf(req), at, rulesOf(parseBody(policyBody, req))), at));
    });
    router.delete(`${path}/retention-policy`, async (req: Request, res: Response) => {
      if (!(await service.remove(actorOf(req), address(req)))) throw new RouteNotFound({ path: req.originalUrl.split('?')[0] });
      res.status(204).end();
    });
    router.post(`${path}/retention-runs`, async (req: Request, res: Response) => {
      res.json(shapeReport(await service.run(actorOf(req), address(req), dryRunOf(req))));
    });
  }
  return router;
}

function dryRunOf(req: Request): boolean {
  const value = (req.query as Record<string, unknown>).dry_run;
  if (value === undefined || value === 'false') return false;
  if (value === 'true' || value === '') return true;
  throw new InvalidRequest('dry_run is true or false');
}

function rulesOf(body: z.infer<typeof policyBody>): RetentionRules {
  return {
    keepTagged: body.keep_tagged ?? [],
    deleteUntaggedAfterDays: body.delete_untagged_after_days ?? null,
    keepHighestSemver: body.keep_highest_semver ?? false,
    keepPulledWithinDays: body.keep_pulled_within_days ?? null,
    excludeTags: body.exclude_tags ?? [],
    detachReferrers: body.detach_referrers ?? false,
  };
}

/** A policy named as it was addressed: `organisation`, `user` or `package` (as immutable-tag rules are). */
function shapePolicy(policy: RetentionPolicy, at: PolicyAddress) {
  const r = policy.rules;
  return {
    [at.kind]: policy.name,
    keep_tagged: r.keepTagged,
    delete_untagged_after_days: r.deleteUntaggedAfterDays,
    keep_highest_semver: r.keepHighestSemver,
    keep_pulled_within_days: r.keepPulledWithinDays,
    exclude_tags: r.excludeTags,
    detach_referrers: r.detachReferrers,
    updated_at: new Date(policy.updatedAt).toISOString(),
  };
}

/** The run's report in the API's words; the CLI prints the same. */
export function shapeReport(report: RetentionReport) {
  const decision = (d: RetentionDecision) => ({ id: d.id, digest: d.digest, tags: d.tags, reason: d.reason });
  return {
    dry_run: report.dryRun,
    deleted: report.deleted,
    kept: report.kept,
    failed: report.failed,
    seconds: report.seconds,
    packages: report.packages.map((p) => ({
      name: p.name,
      policy: { [p.policy.scope]: p.policy.name },
      delete: p.delete.map(decision),
      keep: p.keep.map(decision),
      failed: p.failed,
    })),
  };
}
