import express, { type Request, type Response, type Router } from 'express';
import { Unauthenticated } from '../auth/errors';
import { InvalidRequest } from '../auth/management/errors';
import type { Principal } from '../auth/principal';
import type { HookSettings } from '../webhooks/hook-store';
import { HookNotFound, type HookOwner, type HookService } from '../webhooks/hook-service';
import { forms } from './account-routes';
import { deliveryBody, hookBody, hookListBody, type HookScopeView, hooksUrl } from './pages/hooks-page';
import { ownerUrl } from './urls';
import { field, fieldList, type PageRenderer, single } from './web-http';
import type { WebViewers } from './web-viewer';

/** Deliveries the hook page lists at a time; older ones through its "Older deliveries" link. */
export const HOOK_LOG_PAGE = 30;

const FLASHES: Readonly<Record<string, string>> = {
  created: 'The webhook was created. A ping is on its way.',
  updated: 'The webhook was saved.',
  deleted: 'The webhook was deleted.',
  ping: 'A ping is on its way.',
  redelivered: 'The delivery was queued again.',
};

/**
 * Webhook settings pages (issue #17: "webhooks and their deliveries"): the
 * hooks of an organisation (`?scope=org:NAME`), a source repository
 * (`repo:OWNER/NAME`) or the instance (`instance`): list, create, edit,
 * delete, ping, the delivery log with each request and response, and
 * redelivery. Every change is a form POST (CSRF token and origin checked)
 * calling the HookService the API calls, which decides who may; a hook of
 * another scope is not found.
 */
export function hookRoutes(deps: { viewers: WebViewers; hooks: HookService }, page: PageRenderer): Router {
  const router = express.Router();
  const { hooks } = deps;

  router.get('/-/hooks', async (req, res) => {
    const scope = scopeOf(single(req, 'scope'));
    await page(req, res, 'Webhooks', async (viewer) => {
      const list = await hooks.list(user(viewer.principal), scope.owner);
      return hookListBody(scope.view, list, viewer.csrf ?? '', flashOf(req));
    });
  });

  router.get('/-/hooks/:id', async (req, res, next) => {
    const id = idOf(req.params.id);
    if (id === null) return next();
    const scope = scopeOf(single(req, 'scope'));
    const before = single(req, 'before');
    await page(req, res, `Webhook ${id}`, async (viewer) => {
      const actor = user(viewer.principal);
      const hook = await hooks.get(actor, scope.owner, id);
      const cursor = before !== undefined ? (idOf(before) ?? undefined) : undefined;
      const attempts = await hooks.attempts(actor, scope.owner, id, HOOK_LOG_PAGE + 1, cursor);
      const shown = attempts.slice(0, HOOK_LOG_PAGE);
      const older = attempts.length > HOOK_LOG_PAGE ? shown[shown.length - 1]!.id : null;
      return hookBody(scope.view, hook, { attempts: shown, older }, viewer.csrf ?? '', flashOf(req));
    });
  });

  router.get('/-/hooks/:id/deliveries/:attempt', async (req, res, next) => {
    const id = idOf(req.params.id);
    const attemptId = idOf(req.params.attempt);
    if (id === null || attemptId === null) return next();
    const scope = scopeOf(single(req, 'scope'));
    await page(req, res, `Webhook ${id} delivery`, async (viewer) => {
      const actor = user(viewer.principal);
      const hook = await hooks.get(actor, scope.owner, id);
      return deliveryBody(scope.view, hook, await hooks.attempt(actor, scope.owner, id, attemptId), viewer.csrf ?? '');
    });
  });

  /** A change: the form checked, the service called, then back to the page `done` names (POST, redirect, GET). */
  const change = (path: string, act: (actor: Principal, owner: HookOwner, req: Request) => Promise<number | null>, done: string) =>
    router.post(`/-/hooks/${path}`, forms, async (req: Request, res: Response) => {
      await deps.viewers.checkForm(req);
      const viewer = await deps.viewers.viewer(req, res);
      res.locals.viewer = viewer;
      const scope = scopeOf(field(req, 'scope'));
      const hookId = await act(user(viewer.principal), scope.owner, req);
      res.redirect(303, hooksUrl(scope.view, hookId ?? undefined, { done }));
    });

  change('create', async (actor, owner, req) => (await hooks.create(actor, owner, settingsOf(req, null))).id, 'created');
  change(
    'update',
    async (actor, owner, req) => {
      const id = formId(req, 'id');
      const current = await hooks.get(actor, owner, id);
      return (await hooks.update(actor, owner, id, settingsOf(req, current.secret))).id;
    },
    'updated',
  );
  change(
    'delete',
    async (actor, owner, req) => {
      await hooks.remove(actor, owner, formId(req, 'id'));
      return null;
    },
    'deleted',
  );
  change(
    'ping',
    async (actor, owner, req) => {
      const id = formId(req, 'id');
      await hooks.ping(actor, owner, id);
      return id;
    },
    'ping',
  );
  change(
    'redeliver',
    async (actor, owner, req) => {
      const id = formId(req, 'id');
      await hooks.redeliver(actor, owner, id, formId(req, 'attempt'));
      return id;
    },
    'redelivered',
  );

  return router;
}

/**
 * The settings a create or edit form sent. `secret`: the stored one on an edit, kept when the
 * field is left empty (it is write-only: the page never shows it), removed when asked.
 */
function settingsOf(req: Request, stored: string | null): HookSettings {
  const secret = field(req, 'secret');
  const contentType = field(req, 'content_type');
  if (contentType !== 'json' && contentType !== 'form') throw new InvalidRequest('content type is json or form');
  const glob = (key: string) => field(req, key).trim() || null;
  return {
    url: field(req, 'url').trim(),
    secret: secret !== '' ? secret : field(req, 'clear_secret') === 'yes' ? null : stored,
    contentType,
    events: fieldList(req, 'events'),
    packageGlob: glob('package_glob'),
    tagGlob: glob('tag_glob'),
    // A checkbox left unchecked sends nothing.
    active: field(req, 'active') === 'yes',
  };
}

interface Scope {
  owner: HookOwner;
  view: HookScopeView;
}

/** `org:NAME`, `repo:OWNER/NAME` or `instance`; anything else names no hooks (not found, echoing nothing). */
export function scopeOf(param: string | undefined): Scope {
  const org = /^org:([A-Za-z0-9][A-Za-z0-9._-]{0,127})$/.exec(param ?? '');
  if (org) {
    const name = org[1]!;
    return {
      owner: { kind: 'org', org: name },
      view: { param: `org:${name}`, label: `the organisation ${name}`, home: { href: ownerUrl('org', name), text: name } },
    };
  }
  const repo = /^repo:([A-Za-z0-9][A-Za-z0-9._-]{0,127})\/([A-Za-z0-9._-]{1,128})$/.exec(param ?? '');
  if (repo) {
    const full = `${repo[1]!}/${repo[2]!}`;
    return {
      owner: { kind: 'repository', owner: repo[1]!, name: repo[2]! },
      view: {
        param: `repo:${full}`,
        label: `the repository ${full}`,
        home: { href: `/-/repositories?repository=${encodeURIComponent(full)}`, text: full },
      },
    };
  }
  if (param === 'instance') return { owner: { kind: 'instance' }, view: { param, label: 'every package (instance)', home: null } };
  throw new HookNotFound('no such hooks');
}

function flashOf(req: Request): string | null {
  return FLASHES[single(req, 'done') ?? ''] ?? null;
}

function idOf(value: unknown): number | null {
  return typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : null;
}

function formId(req: Request, key: string): number {
  const id = idOf(field(req, key));
  if (id === null) throw new HookNotFound('no such hook');
  return id;
}

function user(principal: Principal): Principal {
  if (principal.kind !== 'user') throw new Unauthenticated('sign in to manage webhooks');
  return principal;
}
