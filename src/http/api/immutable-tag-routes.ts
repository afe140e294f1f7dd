import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { InvalidRequest } from '../../auth/management/errors';
import type { ImmutableTagRule } from '../../immutability/immutable-tag-rules';
import type { ImmutableTagService, RuleTarget } from '../../immutability/immutable-tag-service';
import { RouteNotFound } from '../edge-errors';
import { actorOf, param, parseBody } from './body';

const newRule = z.union([
  z.strictObject({ organisation: z.string().min(1).max(256), pattern: z.string().min(1), except: z.array(z.string()).max(32).optional() }),
  z.strictObject({ package: z.string().min(1).max(256), pattern: z.string().min(1), except: z.array(z.string()).max(32).optional() }),
]);

/**
 * Immutable-tag rules (issue #22): `GET /immutable-tag-rules?organisation=ORG` (the organisation's and its
 * packages') or `?package=OWNER/NAME`, `POST /immutable-tag-rules` with `{"organisation"|"package", "pattern",
 * "except"}`, `DELETE /immutable-tag-rules/{id}`.
 */
export function immutableTagRoutes(service: ImmutableTagService): Router {
  const router = express.Router();
  router.get('/immutable-tag-rules', async (req: Request, res: Response) => {
    res.json((await service.list(actorOf(req), targetOf(req))).map(shape));
  });
  router.post('/immutable-tag-rules', async (req: Request, res: Response) => {
    const body = parseBody(newRule, req);
    const target: RuleTarget =
      'organisation' in body ? { scope: 'organisation', name: body.organisation } : { scope: 'package', name: body.package };
    res.status(201).json(shape(await service.add(actorOf(req), { ...target, pattern: body.pattern, except: body.except ?? [] })));
  });
  router.delete('/immutable-tag-rules/:id', async (req: Request, res: Response) => {
    const id = param(req, 'id');
    if (!/^\d{1,9}$/.test(id) || !(await service.remove(actorOf(req), Number(id))))
      throw new RouteNotFound({ path: req.originalUrl.split('?')[0] });
    res.status(204).end();
  });
  return router;
}

function targetOf(req: Request): RuleTarget {
  const { organisation, package: pkg } = req.query as Record<string, unknown>;
  if (typeof organisation === 'string' && pkg === undefined) return { scope: 'organisation', name: organisation };
  if (typeof pkg === 'string' && organisation === undefined) return { scope: 'package', name: pkg };
  throw new InvalidRequest('give organisation or package, once');
}

function shape(rule: ImmutableTagRule) {
  return {
    id: rule.id,
    [rule.scope]: rule.name,
    pattern: rule.pattern,
    except: rule.except,
    created_at: new Date(rule.createdAt).toISOString(),
  };
}
