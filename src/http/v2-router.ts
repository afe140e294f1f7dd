import type { NextFunction, Request, Response } from 'express';
import { RegistryError } from './registry-error';
import { RouteNotFound } from './edge-errors';
import { UploadUnknown } from '../registry/errors';
import { assertValidName } from '../oci/reference';
import type { RouteHandlers } from './handler';
import { isValidUploadId, matchRoute, type RouteMatch } from './routes';

/** Runs before a matched route's handler; throws to refuse (authorization lives here). */
export type RouteGuard = (req: Request, match: RouteMatch) => Promise<void>;

/**
 * Dispatches /v2/* requests through the route table: match, validate the
 * repository name, then hand off to the route's handler for the method.
 */
export function v2Router(handlers: RouteHandlers, guard?: RouteGuard) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.path !== '/v2' && !req.path.startsWith('/v2/')) {
      next();
      return;
    }
    const rest = req.path.slice('/v2/'.length);
    const match = matchRoute(rest);
    if (!match) {
      next(new RouteNotFound({ path: req.path }));
      return;
    }
    const handler = handlers[match.route]?.[req.method];
    if (!handler) {
      next(new RegistryError('UNSUPPORTED', { method: req.method, path: req.path }));
      return;
    }
    try {
      if (match.name !== undefined) assertValidName(match.name);
    } catch (err) {
      next(err);
      return;
    }
    (guard ? guard(req, match) : Promise.resolve())
      .then(() => {
        // After authorization, as for any other upload the caller does not have.
        if (match.uploadId !== undefined && !isValidUploadId(match.uploadId)) {
          throw new UploadUnknown('no upload has this id');
        }
        return handler(req, res, match);
      })
      .catch(next);
  };
}
