import { AsyncLocalStorage } from 'node:async_hooks';
import pino from 'pino';

export type Logger = pino.Logger;

/**
 * The request being served, for log lines written below the HTTP layer
 * (services, event listeners, lock refreshes) by loggers that were not
 * derived from `req.log`. Set by the request-context middleware.
 */
const requestScope = new AsyncLocalStorage<RequestScope>();

/** The request being served, as far as code below the HTTP layer may know it. */
export interface RequestScope {
  requestId: string;
  /** The client's address (Express's req.ip), for the audit log; computed only when asked, off the pull path. */
  clientAddress?: () => string | undefined;
}

/** Runs `fn` (and everything it starts) as part of the request `requestId`. */
export function inRequestScope<T>(requestId: string, fn: () => T, clientAddress?: () => string | undefined): T {
  return requestScope.run({ requestId, clientAddress }, fn);
}

/** The request the caller runs for, if any (undefined in the CLI and in timers). */
export function currentRequest(): RequestScope | undefined {
  return requestScope.getStore();
}

/** JSON lines on stdout; `silent` for tests. Every line written while serving a request carries its `requestId`. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'berth' },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin(_merge, _level, logger) {
      const scope = requestScope.getStore();
      // A child of `req.log` already carries the id in its bindings; never write the key twice.
      if (!scope || 'requestId' in logger.bindings()) return {};
      return { requestId: scope.requestId };
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
