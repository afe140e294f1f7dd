import type { Principal } from '../auth/principal';

/** What the audit log records. */
export const AUDIT_ACTIONS = [
  'manifest.push',
  'tag.move',
  'tag.delete',
  'manifest.delete',
  'version.delete',
  'version.restore',
  'package.delete',
  'package.restore',
  'package.visibility',
  'package.link',
  'package.unlink',
  'package.promote',
  'repository.visibility',
  'repository.collaborator',
  'org.member',
  'token.create',
  'token.revoke',
  'signin.failed',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export function isAuditAction(s: string): s is AuditAction {
  return (AUDIT_ACTIONS as readonly string[]).includes(s);
}

/** Who acted: a verified principal (anonymous when unknown), or the CLI or one of Berth's own jobs (named). */
export type AuditActor = Principal | { kind: 'system'; name?: string };

/** What was acted on; each part only when it applies. */
export interface AuditTarget {
  /** The user or organisation whose namespace it is in: the entry shows in that account's log. */
  owner?: string;
  /** The package (OCI repository), e.g. `acme/app`. */
  package?: string;
  /** The source repository, `owner/name`. */
  repository?: string;
}

export type AuditDetails = Record<string, string | number | boolean | null | string[]>;

export interface AuditEvent {
  action: AuditAction;
  actor: AuditActor;
  target: AuditTarget;
  details?: AuditDetails;
}

/**
 * Where services report what they changed. The time, client address and
 * request id come from the request being served (src/log.ts request scope).
 * Recording never fails the change it reports: an entry that cannot be
 * written is logged as an error instead.
 */
export interface AuditLog {
  record(event: AuditEvent): Promise<void>;
}

/** For services built without an audit log (unit tests, open mode). */
export const NO_AUDIT_LOG: AuditLog = Object.freeze({ record: () => Promise.resolve() });
