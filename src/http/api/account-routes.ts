import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { IdentityService } from '../../auth/identity-service';
import { actorOf, param, parseBody } from './body';

const newUser = z.strictObject({ name: z.string(), password: z.string(), admin: z.boolean().optional() });
const password = z.strictObject({ password: z.string(), currentPassword: z.string().optional() });
const newOrg = z.strictObject({ name: z.string(), owner: z.string().optional() });
const member = z.strictObject({ role: z.enum(['owner', 'member']) });

/** The signed-in user, users (administrators), organisations and their members. */
export function accountRoutes(service: IdentityService): Router {
  const router = express.Router();
  const accounts = service.accounts;

  router.get('/user', async (req: Request, res: Response) => {
    res.json(await accounts.me(actorOf(req)));
  });

  router.get('/users', async (req: Request, res: Response) => {
    res.json(await accounts.listUsers(actorOf(req)));
  });
  router.post('/users', async (req: Request, res: Response) => {
    res.status(201).json(await accounts.createUser(actorOf(req), parseBody(newUser, req)));
  });
  router.get('/users/:name', async (req: Request, res: Response) => {
    res.json(await accounts.user(actorOf(req), param(req, 'name')));
  });
  router.put('/users/:name/password', async (req: Request, res: Response) => {
    const body = parseBody(password, req);
    await accounts.setPassword(actorOf(req), param(req, 'name'), body.password, body.currentPassword);
    res.status(204).end();
  });
  router.delete('/users/:name', async (req: Request, res: Response) => {
    await accounts.deleteUser(actorOf(req), param(req, 'name'));
    res.status(204).end();
  });

  router.get('/orgs', async (req: Request, res: Response) => {
    res.json(await accounts.listOrgs(actorOf(req)));
  });
  router.post('/orgs', async (req: Request, res: Response) => {
    const body = parseBody(newOrg, req);
    res.status(201).json(await accounts.createOrg(actorOf(req), body.name, body.owner));
  });
  router.get('/orgs/:org', async (req: Request, res: Response) => {
    res.json(await accounts.org(actorOf(req), param(req, 'org')));
  });
  router.put('/orgs/:org/members/:user', async (req: Request, res: Response) => {
    const body = parseBody(member, req);
    res.json(await accounts.setMember(actorOf(req), param(req, 'org'), param(req, 'user'), body.role));
  });
  router.delete('/orgs/:org/members/:user', async (req: Request, res: Response) => {
    await accounts.setMember(actorOf(req), param(req, 'org'), param(req, 'user'), null);
    res.status(204).end();
  });
  return router;
}
