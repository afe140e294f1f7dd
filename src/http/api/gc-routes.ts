import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { CollectionService } from '../../gc/collection-service';
import { actorOf, parseBody } from './body';

const collectionRequest = z.strictObject({
  dry_run: z.boolean().optional(),
  grace_seconds: z.number().int().min(0).max(31_536_000).optional(),
  reconcile: z.boolean().optional(),
});

/**
 * `POST /admin/gc`: one garbage collection now (site administrators), answered with what it reclaimed:
 * `{"objects", "bytes", "manifests", "seconds", "dry_run"}`. 409 while another collection runs.
 */
export function gcRoutes(gc: CollectionService): Router {
  const router = express.Router();
  router.post('/admin/gc', async (req: Request, res: Response) => {
    const body = parseBody(collectionRequest, req);
    const summary = await gc.collect(actorOf(req), {
      dryRun: body.dry_run,
      graceSeconds: body.grace_seconds,
      reconcile: body.reconcile,
    });
    res.json({
      objects: summary.objects,
      bytes: summary.bytes,
      manifests: summary.manifests,
      seconds: summary.seconds,
      dry_run: summary.dryRun,
    });
  });
  return router;
}
