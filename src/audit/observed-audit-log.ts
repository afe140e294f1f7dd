import type { AuditEvent, AuditLog } from './audit-log';

/**
 * An audit log that also tells `observe` of each change once it is
 * recorded: the one feed of management changes (visibility, links,
 * deletes, restores) for whatever must follow them, such as the search
 * index, without the services that make them knowing who listens.
 */
export function observedAuditLog(inner: AuditLog, observe: (event: AuditEvent) => void): AuditLog {
  return {
    async record(event: AuditEvent): Promise<void> {
      await inner.record(event);
      observe(event);
    },
  };
}
