import express, { type Request, type Response, type Router } from 'express';
import type { Actor } from '../../auth/management/actor';
import type { DownloadService } from '../../downloads/download-service';
import { actorOf, param } from './body';

/**
 * A package's download counts (`/packages/me/app/downloads`): its total,
 * each version's total and the last 30 days, to whoever may read the package.
 */
export function downloadRoutes(downloads: DownloadService<Actor>): Router {
  const router = express.Router();
  router.get('/packages/*name/downloads', async (req: Request, res: Response) => {
    res.json(await downloads.forPackage(actorOf(req), param(req, 'name')));
  });
  return router;
}
