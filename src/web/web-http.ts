import type { Request, Response } from 'express';
import { ANONYMOUS } from '../auth/principal';
import type { Html } from './html';
import { layout } from './layout';
import { PAGE_HEADERS, type Viewer, type WebViewers } from './web-viewer';

/** Request and response helpers the page routes share. */

export const ANONYMOUS_VIEWER: Viewer = { principal: ANONYMOUS, csrf: null };

/** Renders a page for the request's viewer (anonymous without sessions, in open mode). */
export type PageRenderer = (
  req: Request,
  res: Response,
  title: string,
  body: (viewer: Viewer) => Promise<Html> | Html,
  query?: string,
) => Promise<void>;

export function pageRenderer(viewers: WebViewers | undefined): PageRenderer {
  return async (req, res, title, body, query) => {
    const viewer = viewers ? await viewers.viewer(req, res) : ANONYMOUS_VIEWER;
    res.locals.viewer = viewer;
    send(res, 200, layout({ title, viewer, query, body: await body(viewer) }));
  };
}

/** A form field as text; a missing or repeated one is empty. */
export function field(req: Request, key: string): string {
  return text((req.body as Record<string, unknown> | undefined)?.[key]);
}

/** A repeatable form field (checkboxes): the simple parser gives one value as a string, several as a list. */
export function fieldList(req: Request, key: string): string[] {
  const value = (req.body as Record<string, unknown> | undefined)?.[key];
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export function send(res: Response, status: number, page: string): void {
  res
    .status(status)
    .set(PAGE_HEADERS)
    // Pages show what the viewer may see (and once, a new token): stored by no cache.
    .set({ 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', Vary: 'Cookie' })
    .send(page);
}

/** A form field as text; a missing or repeated one is empty. */
export function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

export function single(req: Request, key: string): string | undefined {
  const value = (req.query as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : undefined;
}

/** `?page=` (or another key) from 1; anything else is the first page. */
export function pageNumber(req: Request, max: number, key = 'page'): number {
  const value = single(req, key) ?? '1';
  const n = /^\d{1,7}$/.test(value) ? Number(value) : 1;
  return Math.min(Math.max(1, n), max);
}

export function param(req: Request, key: string): string {
  const value = (req.params as Record<string, string | string[] | undefined>)[key];
  return Array.isArray(value) ? value.join('/') : (value ?? '');
}

/** Where to go after signing in: a path on this site only (no `//host` or `/\\host` escape). */
export function nextPath(value: string | undefined): string {
  return value && /^\/(?![/\\])[^\s]*$/.test(value) ? value : '/';
}
