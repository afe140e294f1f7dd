import { ANONYMOUS, type Principal } from '../auth/principal';
import type { EventActor, RegistryEvents } from '../events/registry-events';
import type { AuditActor, AuditLog } from './audit-log';

/**
 * Pushes, tag moves and deletes through the registry API, from the
 * registry's events (emitted after the change committed), so the registry
 * services know nothing of the audit log.
 */
export function auditRegistryEvents(events: RegistryEvents, audit: AuditLog): void {
  events.on('manifest.pushed', async (e) => {
    const actor = principalOf(e.actor);
    const target = { owner: ownerOf(e.repository), package: e.repository };
    await audit.record({
      action: 'manifest.push',
      actor,
      target,
      details: { digest: e.digest, tag: e.tag ?? null, mediaType: e.mediaType },
    });
    if (e.tag !== undefined && e.previousDigest && e.previousDigest !== e.digest) {
      await audit.record({ action: 'tag.move', actor, target, details: { tag: e.tag, from: e.previousDigest, to: e.digest } });
    }
  });
  events.on('package.promoted', async (e) => {
    await audit.record({
      action: 'package.promote',
      actor: principalOf(e.actor),
      target: { owner: ownerOf(e.repository), package: e.repository },
      details: { digest: e.digest, to: e.target, referrers: e.referrers },
    });
  });
  events.on('manifest.deleted', async (e) => {
    const target = { owner: ownerOf(e.repository), package: e.repository };
    if (e.tag !== undefined) await audit.record({ action: 'tag.delete', actor: principalOf(e.actor), target, details: { tag: e.tag } });
    else await audit.record({ action: 'manifest.delete', actor: principalOf(e.actor), target, details: { digest: e.digest ?? null } });
  });
}

/** The namespace a package is in: its first path component, a user or organisation. */
export function ownerOf(pkg: string): string {
  return pkg.split('/')[0] ?? pkg;
}

/** Events carry the principal opaquely; open mode has none (anonymous). */
function principalOf(actor: EventActor): AuditActor {
  const p = actor.principal as Principal | undefined;
  return p && typeof p === 'object' && 'kind' in p ? p : ANONYMOUS;
}
