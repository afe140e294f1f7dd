import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { IdentityService } from '../../auth/identity-service';
import { actorOf, param, parseBody } from './body';

const visibility = z.enum(['public', 'private']);
const newRepository = z.strictObject({ owner: z.string().optional(), name: z.string(), visibility: visibility.optional() });
const repositoryChange = z.strictObject({ visibility });
const collaborator = z.strictObject({ role: z.enum(['read', 'write', 'admin']) });
const ciToken = z.strictObject({ ttlMinutes: z.number().int().optional() });

/** Source repositories: create, show, visibility, collaborators, and CI tokens for them. */
export function repositoryRoutes(service: IdentityService): Router {
  const router = express.Router();
  const repositories = service.repositories;

  router.get('/repositories', async (req: Request, res: Response) => {
    res.json(await repositories.list(actorOf(req)));
  });
  router.post('/repositories', async (req: Request, res: Response) => {
    res.status(201).json(await repositories.create(actorOf(req), parseBody(newRepository, req)));
  });
  router.get('/repositories/:owner/:name', async (req: Request, res: Response) => {
    res.json(await repositories.show(actorOf(req), param(req, 'owner'), param(req, 'name')));
  });
  router.patch('/repositories/:owner/:name', async (req: Request, res: Response) => {
    const body = parseBody(repositoryChange, req);
    res.json(await repositories.setVisibility(actorOf(req), param(req, 'owner'), param(req, 'name'), body.visibility));
  });
  router.get('/repositories/:owner/:name/collaborators', async (req: Request, res: Response) => {
    res.json(await repositories.collaborators(actorOf(req), param(req, 'owner'), param(req, 'name')));
  });
  router.put('/repositories/:owner/:name/collaborators/:user', async (req: Request, res: Response) => {
    const body = parseBody(collaborator, req);
    res.json(await repositories.setCollaborator(actorOf(req), param(req, 'owner'), param(req, 'name'), param(req, 'user'), body.role));
  });
  router.delete('/repositories/:owner/:name/collaborators/:user', async (req: Request, res: Response) => {
    await repositories.setCollaborator(actorOf(req), param(req, 'owner'), param(req, 'name'), param(req, 'user'), null);
    res.status(204).end();
  });
  router.post('/repositories/:owner/:name/ci-tokens', async (req: Request, res: Response) => {
    const body = parseBody(ciToken, req);
    const minted = await service.tokens.createCi(
      actorOf(req),
      { owner: param(req, 'owner'), name: param(req, 'name') },
      { ttlMinutes: body.ttlMinutes },
    );
    res
      .set('Cache-Control', 'no-store')
      .status(201)
      .json({ token: minted.token, ...minted.record });
  });
  return router;
}
