import express, { type Request, type Response, type Router } from 'express';
import { InvalidRequest } from '../../auth/management/errors';
import { isAuditAction } from '../../audit/audit-log';
import type { AuditFilter, AuditPage, AuditService } from '../../audit/audit-service';
import { actorOf, param } from './body';

/** Entries per page unless `per_page` asks otherwise, and the most it may ask for. */
const DEFAULT_PER_PAGE = 30;
const MAX_PER_PAGE = 100;

/**
 * The audit log, newest first: an organisation's (`/orgs/{org}/audit-log`,
 * its owners only) and the caller's own (`/user/audit-log`). Filters
 * `action`, `actor`, `after` and `before` (ISO times), `per_page`; the next
 * page is the `Link: <…>; rel="next"` URL, which carries a `cursor`.
 */
export function auditRoutes(audit: AuditService): Router {
  const router = express.Router();
  router.get('/orgs/:org/audit-log', async (req: Request, res: Response) => {
    send(req, res, await audit.orgLog(actorOf(req), param(req, 'org'), filterOf(req)));
  });
  router.get('/user/audit-log', async (req: Request, res: Response) => {
    send(req, res, await audit.userLog(actorOf(req), filterOf(req)));
  });
  return router;
}

function send(req: Request, res: Response, page: AuditPage): void {
  if (page.next !== null) {
    const query = new URLSearchParams(req.query as Record<string, string>);
    query.set('cursor', String(page.next));
    const url = `${req.protocol}://${req.headers.host ?? ''}${req.baseUrl}${req.path}?${query.toString()}`;
    res.set('Link', `<${url}>; rel="next"`);
  }
  res.json(page.entries);
}

function filterOf(req: Request): AuditFilter {
  const q = req.query as Record<string, unknown>;
  const text = (key: string): string | undefined => {
    const value = q[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value === '') throw new InvalidRequest(`${key} must be given once, not empty`);
    return value;
  };
  const action = text('action');
  if (action !== undefined && !isAuditAction(action)) throw new InvalidRequest(`unknown action ${action.slice(0, 64)}`);
  const perPage = integer(text('per_page') ?? String(DEFAULT_PER_PAGE), 'per_page');
  if (perPage < 1 || perPage > MAX_PER_PAGE) throw new InvalidRequest(`per_page is 1 to ${MAX_PER_PAGE}`);
  const cursor = text('cursor');
  return {
    action,
    actor: text('actor'),
    after: time(text('after'), 'after'),
    before: time(text('before'), 'before'),
    perPage,
    cursor: cursor === undefined ? undefined : integer(cursor, 'cursor'),
  };
}

function integer(value: string, key: string): number {
  if (!/^\d{1,15}$/.test(value)) throw new InvalidRequest(`${key} must be a whole number`);
  return Number(value);
}

/** An ISO 8601 time (a date alone is midnight UTC), as epoch milliseconds. */
function time(value: string | undefined, key: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new InvalidRequest(`${key} must be an ISO 8601 time, e.g. 2025-01-31T12:00:00Z`);
  return ms;
}
