import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { IdentityService } from '../../auth/identity-service';
import { InvalidRequest } from '../../auth/management/errors';
import { AccessDenied, Unauthenticated } from '../../auth/errors';
import { actorOf, param, parseBody } from './body';

const newToken = z.strictObject({
  name: z.string().optional(),
  scopes: z.array(z.string()).min(1),
  expiresInDays: z.number().int().optional(),
});

/** The caller's personal access tokens: create (the secret is in this answer only), list, revoke. */
export function accessTokenRoutes(service: IdentityService): Router {
  const router = express.Router();
  const tokens = service.tokens;

  router.get('/tokens', async (req: Request, res: Response) => {
    res.json(await tokens.list(actorOf(req), signedInName(req)));
  });
  router.post('/tokens', async (req: Request, res: Response) => {
    const minted = await tokens.createPersonal(actorOf(req), signedInName(req), parseBody(newToken, req));
    res
      .set('Cache-Control', 'no-store')
      .status(201)
      .json({ token: minted.token, ...minted.record });
  });
  router.delete('/tokens/:id', async (req: Request, res: Response) => {
    const id = Number(param(req, 'id'));
    if (!Number.isSafeInteger(id) || id < 1) throw new InvalidRequest('a token id is a positive integer');
    await tokens.revoke(actorOf(req), id);
    res.status(204).end();
  });
  return router;
}

function signedInName(req: Request): string {
  const actor = actorOf(req);
  if (actor.kind === 'anonymous') throw new Unauthenticated('sign in to manage tokens');
  if (actor.kind === 'ci') throw new AccessDenied('a CI token has no tokens of its own');
  return actor.name;
}
