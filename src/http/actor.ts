import type { Request } from 'express';
import type { EventActor } from '../events/registry-events';

/** Who made a request, for the events it causes. */
export function actorOf(req: Request): EventActor {
  return { principal: req.auth?.principal, origin: `${req.protocol}://${req.headers.host ?? ''}` };
}
