import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { DeliveryAttempt, Hook, HookSettings } from '../../webhooks/hook-store';
import { type HookOwner, type HookService } from '../../webhooks/hook-service';
import { actorOf, parseBody } from '../api/body';
import { RouteNotFound } from '../edge-errors';
import { GitHubValidationFailed } from './github-edge-errors';
import { origin } from './github-shapes';

/** GitHub's `config` object: strings, as GitHub takes them; Berth adds the package and tag globs. */
const config = z.strictObject({
  url: z.string().max(2048).optional(),
  content_type: z.enum(['json', 'form']).optional(),
  secret: z.string().max(1024).optional(),
  insecure_ssl: z.union([z.string(), z.number()]).optional(),
  package_glob: z.string().max(256).nullable().optional(),
  tag_glob: z.string().max(256).nullable().optional(),
});
const events = z.array(z.string().max(64)).max(20);
const createBody = z.strictObject({
  name: z.literal('web').optional(),
  config: config.extend({ url: z.string().max(2048) }),
  events: events.optional(),
  active: z.boolean().optional(),
});
const updateBody = z.strictObject({
  name: z.literal('web').optional(),
  config: config.optional(),
  events: events.optional(),
  add_events: events.optional(),
  remove_events: events.optional(),
  active: z.boolean().optional(),
});

/**
 * GitHub's hooks API for one kind of owner: `…/hooks`, `…/hooks/:id`, `…/pings`, `…/deliveries`,
 * `…/deliveries/:delivery_id` and `…/attempts` (redelivery), in GitHub's shapes. Mounted under
 * /api/v3 for organisations (`/orgs/:org`) and repositories (`/repos/:owner/:repo`), and under
 * /api/v1 for the instance's hooks (`/admin`). `url` and `ping_url` name the path it was reached at.
 */
export function hookRoutes(prefix: string, ownerOf: (req: Request) => HookOwner, hooks: HookService): Router {
  const router = express.Router();
  const base = `${prefix}/hooks`;
  router.get(base, async (req: Request, res: Response) => {
    res.json((await hooks.list(actorOf(req), ownerOf(req))).map((h) => hookJson(req, h)));
  });
  router.post(base, async (req: Request, res: Response) => {
    const body = parseBody(createBody, req);
    const settings: HookSettings = {
      url: body.config.url,
      secret: body.config.secret || null,
      contentType: body.config.content_type ?? 'form',
      // GitHub's default is `push`, which a registry never sends: `package` is the one that fits.
      events: body.events ?? ['package'],
      packageGlob: body.config.package_glob ?? null,
      tagGlob: body.config.tag_glob ?? null,
      active: body.active ?? true,
    };
    const hook = await hooks.create(actorOf(req), ownerOf(req), settings);
    res.status(201).set('Location', hookUrl(req, hook.id)).json(hookJson(req, hook));
  });
  router.get(`${base}/:hook_id`, async (req: Request, res: Response) => {
    res.json(hookJson(req, await hooks.get(actorOf(req), ownerOf(req), id(req, 'hook_id'))));
  });
  router.patch(`${base}/:hook_id`, async (req: Request, res: Response) => {
    const body = parseBody(updateBody, req);
    const owner = ownerOf(req);
    const hookId = id(req, 'hook_id');
    const changes: Partial<HookSettings> = {};
    if (body.config?.url !== undefined) changes.url = body.config.url;
    if (body.config?.secret !== undefined) changes.secret = body.config.secret || null;
    if (body.config?.content_type !== undefined) changes.contentType = body.config.content_type;
    if (body.config?.package_glob !== undefined) changes.packageGlob = body.config.package_glob;
    if (body.config?.tag_glob !== undefined) changes.tagGlob = body.config.tag_glob;
    if (body.active !== undefined) changes.active = body.active;
    if (body.events || body.add_events || body.remove_events) {
      const current = body.events ?? (await hooks.get(actorOf(req), owner, hookId)).events;
      const removed = new Set(body.remove_events ?? []);
      changes.events = [...new Set([...current, ...(body.add_events ?? [])])].filter((e) => !removed.has(e));
    }
    res.json(hookJson(req, await hooks.update(actorOf(req), owner, hookId, changes)));
  });
  router.delete(`${base}/:hook_id`, async (req: Request, res: Response) => {
    await hooks.remove(actorOf(req), ownerOf(req), id(req, 'hook_id'));
    res.status(204).end();
  });
  router.post(`${base}/:hook_id/pings`, async (req: Request, res: Response) => {
    await hooks.ping(actorOf(req), ownerOf(req), id(req, 'hook_id'));
    res.status(204).end();
  });
  router.get(`${base}/:hook_id/deliveries`, async (req: Request, res: Response) => {
    const perPage = pageSize(req);
    const cursor = typeof req.query.cursor === 'string' && /^\d{1,15}$/.test(req.query.cursor) ? Number(req.query.cursor) : undefined;
    const hookId = id(req, 'hook_id');
    const attempts = await hooks.attempts(actorOf(req), ownerOf(req), hookId, perPage + 1, cursor);
    const page = attempts.slice(0, perPage);
    // GitHub pages deliveries by cursor: `Link: <…?cursor=…>; rel="next"`.
    if (attempts.length > perPage) {
      const next = new URL(`${origin(req)}${req.baseUrl}${req.path}`);
      next.searchParams.set('per_page', String(perPage));
      next.searchParams.set('cursor', String(page[page.length - 1]!.id));
      res.set('Link', `<${next.toString()}>; rel="next"`);
    }
    res.json(page.map(deliveryJson));
  });
  router.get(`${base}/:hook_id/deliveries/:delivery_id`, async (req: Request, res: Response) => {
    const attempt = await hooks.attempt(actorOf(req), ownerOf(req), id(req, 'hook_id'), id(req, 'delivery_id'));
    res.json(fullDeliveryJson(attempt, await hookUrlOf(hooks, req, ownerOf(req))));
  });
  router.post(`${base}/:hook_id/deliveries/:delivery_id/attempts`, async (req: Request, res: Response) => {
    await hooks.redeliver(actorOf(req), ownerOf(req), id(req, 'hook_id'), id(req, 'delivery_id'));
    // GitHub answers 202 Accepted: the redelivery is queued, not sent yet.
    res.status(202).json({});
  });
  return router;
}

async function hookUrlOf(hooks: HookService, req: Request, owner: HookOwner): Promise<string> {
  return (await hooks.get(actorOf(req), owner, id(req, 'hook_id'))).url;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function hookUrl(req: Request, hookId: number): string {
  const path = req.path.replace(/\/hooks(\/.*)?$/, '/hooks');
  return `${origin(req)}${req.baseUrl}${path}/${hookId}`;
}

/** GitHub's hook object; the secret is never returned (GitHub shows `********` when one is set). */
function hookJson(req: Request, hook: Hook) {
  const url = hookUrl(req, hook.id);
  return {
    type: hook.scope.kind === 'org' ? 'Organization' : hook.scope.kind === 'repository' ? 'Repository' : 'Global',
    id: hook.id,
    name: 'web',
    active: hook.active,
    events: hook.events,
    config: {
      url: hook.url,
      content_type: hook.contentType,
      insecure_ssl: '0',
      ...(hook.secret === null ? {} : { secret: '********' }),
      package_glob: hook.packageGlob,
      tag_glob: hook.tagGlob,
    },
    updated_at: iso(hook.updatedAt),
    created_at: iso(hook.createdAt),
    url,
    ping_url: `${url}/pings`,
    deliveries_url: `${url}/deliveries`,
    // Berth's own: why Berth switched the hook off (a 410, or failing for days).
    disabled_reason: hook.disabledReason,
  };
}

/** GitHub's delivery summary: one per attempt, all attempts of one event sharing its guid. */
function deliveryJson(a: DeliveryAttempt) {
  return {
    id: a.id,
    guid: a.guid,
    delivered_at: iso(a.at),
    redelivery: a.redelivery,
    duration: a.durationMs / 1000,
    status: a.status,
    status_code: a.statusCode,
    event: a.event,
    action: a.action,
    installation_id: null,
    repository_id: null,
    throttled_at: null,
    // Berth's own: which attempt of the event this was.
    attempt: a.attempt,
  };
}

function fullDeliveryJson(a: DeliveryAttempt, url: string) {
  return {
    ...deliveryJson(a),
    url,
    request: { headers: a.requestHeaders, payload: parseJson(a.requestBody) },
    response: { headers: a.responseHeaders, payload: a.responseBody },
  };
}

/** The payload as JSON when it was sent as JSON; a form-encoded one stays text. */
function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

function id(req: Request, key: string): number {
  const raw = (req.params as Record<string, string | undefined>)[key];
  if (raw === undefined) throw new RouteNotFound(`missing ${key}`);
  if (!/^\d{1,15}$/.test(raw)) throw new GitHubValidationFailed(`${key} must be an integer`);
  return Number(raw);
}

function pageSize(req: Request): number {
  const raw = req.query.per_page;
  if (raw === undefined) return 30;
  if (typeof raw !== 'string' || !/^\d{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > 100) {
    throw new GitHubValidationFailed('per_page must be 1 to 100');
  }
  return Number(raw);
}
