import type { Socket } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { DomainError } from '../../domain-error';
import { API_PREFIX } from '../api/api-prefix';
import { errorAnswer } from '../error-mapping';
import { RegistryError } from '../registry-error';

/** Errors of clients that went away mid-request: nothing to answer, nothing to alarm anyone about. */
const CLIENT_GONE = new Set(['ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE', 'ECONNABORTED', 'EPIPE']);

const BASIC_CHALLENGE = 'Basic realm="Berth", charset="UTF-8"';

/**
 * The one place an error becomes a response: the error JSON with the status,
 * code and headers error-mapping.ts gives it (OCI codes, or the management
 * API's own under /api/v1).
 */
export function renderErrors() {
  // Express recognises error middleware by its four parameters.
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const code = (err as NodeJS.ErrnoException | null)?.code;
    if (typeof code === 'string' && CLIENT_GONE.has(code) && !(err instanceof RegistryError || err instanceof DomainError)) {
      req.log.info({ code }, 'client went away');
      if (!res.headersSent) res.destroy();
      return;
    }
    // The /v2 chain runs without Express's app, which is what sets originalUrl: typed string, there undefined.
    const url = (req.originalUrl as string | undefined) ?? req.url;
    const error = errorAnswer(err, isManagementPath(url) ? 'management' : 'registry');
    if (error.log === 'error') req.log.error({ err }, 'request failed');
    else if (error.log === 'warn') req.log.warn({ err }, 'storage fault');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (!req.complete) drainBriefly(req, res);
    res.status(error.status).set(error.headers);
    // RFC 9110 §15.5.2: every 401 names a scheme. Registry routes set their Bearer challenge;
    // the token endpoint and the management API take Basic credentials.
    if (error.status === 401 && !res.get('WWW-Authenticate')) res.set('WWW-Authenticate', BASIC_CHALLENGE);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const body = { errors: [{ code: error.code, message: error.message, detail: error.detail ?? null }] };
    res.type('application/json').send(Buffer.from(JSON.stringify(body)));
  };
}

function isManagementPath(url: string): boolean {
  return url === API_PREFIX || url.startsWith(`${API_PREFIX}/`) || url.startsWith(`${API_PREFIX}?`);
}

/** How long a refused request's remaining body may keep its connection open. */
const DRAIN_MS = 10_000;

/**
 * A request refused before its body was read (a 416 chunk, a 413 manifest):
 * closing at once would reset a client still sending, and it would never see
 * the error. So the body is read and discarded (Node does that for a
 * keep-alive response), but only for a bounded time.
 */
function drainBriefly(req: Request, res: Response): void {
  // Taken now: by the time the response has finished, the request may be detached from it.
  // Null once the request was destroyed (a failed pipeline does that): typed non-null, not always so.
  const socket = req.socket as Socket | null;
  req.resume();
  if (socket) lingerOnClose(socket);
  res.once('finish', () => {
    if (req.complete || !socket) return;
    const timer = setTimeout(() => socket.destroy(), DRAIN_MS);
    timer.unref();
    req.once('end', () => clearTimeout(timer));
    req.once('close', () => clearTimeout(timer));
  });
}

/**
 * When the answer is the connection's last (the client sent `Connection: close`), Node
 * destroys the socket right after writing it; the unread body still arriving then makes
 * the kernel send a reset, which can discard the answer before the client reads it (2 of
 * 30 refused 8 MiB chunks measured so). RFC 9112 §9.6: half-close instead, and keep
 * reading until the client closes or DRAIN_MS passes.
 */
function lingerOnClose(socket: Socket): void {
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), DRAIN_MS);
    timer.unref();
    socket.once('end', () => socket.destroy());
    socket.once('close', () => clearTimeout(timer));
  };
}
