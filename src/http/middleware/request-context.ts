import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { inRequestScope, type Logger } from '../../log';

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
    log: Logger;
  }
}

const INCOMING_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Gives every request an id (the caller's X-Request-Id when sane), a child
 * logger carrying it, the API version header every v2 response carries, and
 * one access-log line when the response is done.
 */
export function requestContext(log: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.headers['x-request-id'];
    req.id = typeof incoming === 'string' && INCOMING_ID.test(incoming) ? incoming : randomUUID();
    req.log = log.child({ requestId: req.id });
    res.set({ 'X-Request-Id': req.id, 'Docker-Distribution-API-Version': 'registry/2.0' });
    const started = process.hrtime.bigint();
    res.on('close', () => {
      req.log.info(
        {
          method: req.method,
          path: req.path,
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
          contentLength: req.headers['content-length'],
          completed: res.writableFinished,
        },
        'request',
      );
    });
    // Log lines written further down (services, event listeners) carry the id too.
    inRequestScope(req.id, next, () => req.ip ?? req.socket.remoteAddress);
  };
}
