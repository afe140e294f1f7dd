import type { NextFunction, Request, Response } from 'express';
import { RequestBodyRefused } from './edge-errors';

/**
 * body-parser's errors (malformed JSON or form, too large, bad charset or
 * encoding) as RequestBodyRefused, with body-parser's own 4xx status; left as
 * they are they would reach the renderer as an unknown error, a 500.
 */
export function bodyParserErrors(err: unknown, _req: Request, _res: Response, next: NextFunction): void {
  const e = err as { type?: unknown; status?: unknown } | null;
  if (typeof e?.type === 'string' && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    next(new RequestBodyRefused((err as Error).message, e.status));
    return;
  }
  next(err);
}
