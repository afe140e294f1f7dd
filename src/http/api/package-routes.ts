import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { IdentityService } from '../../auth/identity-service';
import { actorOf, param, parseBody } from './body';

const packageChange = z.strictObject({ visibility: z.enum(['public', 'private']) });
const link = z.strictObject({ repository: z.string() });

/**
 * Packages, named by their full path (`/packages/me/app` or `/packages/me%2Fapp`):
 * list, show, visibility, and the link to a source repository.
 */
export function packageRoutes(service: IdentityService): Router {
  const router = express.Router();
  const packages = service.packages;

  router.get('/packages', async (req: Request, res: Response) => {
    res.json(await packages.list(actorOf(req)));
  });
  router.put('/packages/*name/link', async (req: Request, res: Response) => {
    const body = parseBody(link, req);
    res.json(await packages.link(actorOf(req), param(req, 'name'), body.repository));
  });
  router.delete('/packages/*name/link', async (req: Request, res: Response) => {
    res.json(await packages.unlink(actorOf(req), param(req, 'name')));
  });
  router.get('/packages/*name', async (req: Request, res: Response) => {
    res.json(await packages.show(actorOf(req), param(req, 'name')));
  });
  router.patch('/packages/*name', async (req: Request, res: Response) => {
    const body = parseBody(packageChange, req);
    res.json(await packages.setVisibility(actorOf(req), param(req, 'name'), body.visibility));
  });
  return router;
}
