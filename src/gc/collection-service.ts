import { AccessDenied } from '../auth/errors';
import { isSiteAdmin, requireManager, type Actor } from '../auth/management/actor';
import type { CollectionOptions, CollectionSummary, GarbageCollector } from './collector';

/** Garbage collection on demand through the API: site administrators only, signed in (not with a token). */
export class CollectionService {
  constructor(private readonly collector: GarbageCollector) {}

  async collect(actor: Actor, options: CollectionOptions): Promise<CollectionSummary> {
    const manager = requireManager(actor, 'run garbage collection');
    if (!isSiteAdmin(manager)) throw new AccessDenied('garbage collection is for site administrators');
    return this.collector.collect(options);
  }
}
