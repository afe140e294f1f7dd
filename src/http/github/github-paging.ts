import type { Request } from 'express';
import { GitHubValidationFailed } from './github-edge-errors';

export const DEFAULT_PER_PAGE = 30;
export const MAX_PER_PAGE = 100;

export interface PageRequest {
  page: number;
  perPage: number;
}

/** `page` (≥ 1, default 1) and `per_page` (1 to 100, default 30); anything else is a validation failure. */
export function pageRequest(req: Request): PageRequest {
  return {
    page: integerParam(req, 'page', 1, 1, Number.MAX_SAFE_INTEGER),
    perPage: integerParam(req, 'per_page', DEFAULT_PER_PAGE, 1, MAX_PER_PAGE),
  };
}

function integerParam(req: Request, key: string, fallback: number, min: number, max: number): number {
  const raw = req.query[key];
  if (raw === undefined || raw === '') return fallback;
  if (typeof raw !== 'string' || !/^\d{1,16}$/.test(raw)) throw new GitHubValidationFailed(`${key} must be an integer`);
  const value = Number(raw);
  if (value < min || value > max) throw new GitHubValidationFailed(`${key} must be between ${min} and ${max}`);
  return value;
}

/**
 * GitHub's `Link` header: absolute first, prev, next and last URLs, keeping
 * the request's other query parameters. No header when everything fits on one page.
 */
export function linkHeader(req: Request, { page, perPage }: PageRequest, total: number): string | undefined {
  const last = Math.max(1, Math.ceil(total / perPage));
  if (last === 1 && page === 1) return undefined;
  const base = `${req.protocol}://${req.get('host') ?? 'localhost'}${req.originalUrl.split('?')[0] ?? ''}`;
  const url = (p: number) => {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(req.query)) if (typeof v === 'string' && k !== 'page') query.set(k, v);
    query.set('page', String(p));
    return `<${base}?${query.toString()}>`;
  };
  const links: string[] = [];
  if (page > 1) links.push(`${url(Math.min(page - 1, last))}; rel="prev"`);
  if (page < last) links.push(`${url(page + 1)}; rel="next"`);
  links.push(`${url(last)}; rel="last"`, `${url(1)}; rel="first"`);
  return links.join(', ');
}
