import type { NextFunction, Request, Response } from 'express';
import { RegistryError } from '../oci/errors';

/**
 * body-parser's errors (malformed JSON or form, too large, bad charset or
 * encoding) as REQUEST_INVALID with body-parser's own 4xx status; left as
 * they are they would reach the renderer as an unknown error, a 500.
 */
export function bodyParserErrors(err: unknown, _req: Request, _res: Response, next: NextFunction): void {
  const e = err as { type?: unknown; status?: unknown } | null;
  if (!(err instanceof RegistryError) && typeof e?.type === 'string' && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    next(new RegistryError('REQUEST_INVALID', (err as Error).message, { status: e.status }));
    return;
  }
  next(err);
}
