import http from 'node:http';
import express, { type Express } from 'express';

/**
 * Request and response classes for `http.createServer` that carry Express's
 * helpers (`res.set`, `res.status`, `req.query`, `req.ip`…) from birth.
 *
 * Express gives every request those helpers by swapping the prototype of
 * Node's objects (`Object.setPrototypeOf`) as it enters the app. V8 then
 * treats every object of the HTTP hot path as a new shape and falls off its
 * fast paths: on this project's 2-core machine a small GET went from ~12k to
 * ~6k requests/s from the swap alone (conformance/bench). Objects created
 * from these classes already have the right prototype, so registry requests
 * can be dispatched without the swap.
 */
export interface ExpressObjectClasses {
  IncomingMessage: typeof http.IncomingMessage;
  ServerResponse: typeof http.ServerResponse;
  /** Links the pair as Express does, and gives objects made by Node's default classes (supertest) the same prototypes. */
  adopt(req: http.IncomingMessage, res: http.ServerResponse): void;
}

export function expressObjectClasses(app: Express): ExpressObjectClasses {
  class BerthIncomingMessage extends http.IncomingMessage {}
  class BerthServerResponse<R extends http.IncomingMessage = http.IncomingMessage> extends http.ServerResponse<R> {}
  mixIn(BerthIncomingMessage.prototype, express.request, app);
  mixIn(BerthServerResponse.prototype, express.response, app);
  return {
    IncomingMessage: BerthIncomingMessage,
    ServerResponse: BerthServerResponse,
    adopt(req, res) {
      // Express's helpers reach the response from the request (`req.res`: freshness, `res.send`).
      (req as http.IncomingMessage & { res?: http.ServerResponse }).res = res;
      if (!(req instanceof BerthIncomingMessage)) Object.setPrototypeOf(req, BerthIncomingMessage.prototype);
      if (!(res instanceof BerthServerResponse)) Object.setPrototypeOf(res, BerthServerResponse.prototype);
    },
  };
}

/** Copies Express's request or response helpers onto a class, bound to `app` (its settings: query parser, trust proxy). */
function mixIn(target: object, helpers: object, app: Express): void {
  for (const key of Object.getOwnPropertyNames(helpers)) {
    const descriptor = Object.getOwnPropertyDescriptor(helpers, key);
    if (descriptor) Object.defineProperty(target, key, descriptor);
  }
  Object.defineProperty(target, 'app', { value: app, configurable: true, enumerable: true, writable: true });
}
