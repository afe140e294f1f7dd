import type { NextFunction, Request, Response } from 'express';
import { RegistryError } from '../../oci/errors';

/** Errors of clients that went away mid-request: nothing to answer, nothing to alarm anyone about. */
const CLIENT_GONE = new Set(['ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE', 'ECONNABORTED', 'EPIPE']);

/** The one place an error becomes a response: the OCI error JSON with the code's status. */
export function renderErrors() {
  // Express recognises error middleware by its four parameters.
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const code = (err as NodeJS.ErrnoException | null)?.code;
    if (typeof code === 'string' && CLIENT_GONE.has(code) && !(err instanceof RegistryError)) {
      req.log.info({ code }, 'client went away');
      if (!res.headersSent) res.destroy();
      return;
    }
    const error = err instanceof RegistryError ? err : new RegistryError('UNKNOWN');
    if (error.code === 'UNKNOWN') req.log.error({ err }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // An unread request body (say, a refused 2 GiB chunk) is not worth draining.
    if (!req.complete) res.set('Connection', 'close');
    res.status(error.status).set(error.headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    res.type('application/json').send(Buffer.from(JSON.stringify(error.toJSON())));
  };
}
