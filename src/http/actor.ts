import type { Request } from 'express';
import type { EventActor } from '../events/registry-events';

/** Who made a request, for the events it causes. */
export function actorOf(req: Request): EventActor {
  const principal = req.auth?.principal;
  return {
    principal,
    origin: `${req.protocol}://${req.headers.host ?? ''}`,
    ...(principal && principal.kind !== 'anonymous' ? { name: principal.name } : {}),
  };
}
