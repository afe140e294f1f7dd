import type { Principal } from '../principal';

import { AccessDenied, Unauthenticated } from '../errors';

/**
 * The CLI's actor: whoever can open the data directory already controls
 * everything in it, so it passes every check. Berth's own jobs act as a named
 * system actor (`retention`), the name the audit log records.
 */
export type SystemActor = Readonly<{ kind: 'system'; name?: string }>;
export const SYSTEM: SystemActor = Object.freeze({ kind: 'system' as const });

/** Who performs a management operation: a verified principal, or the CLI. */
export type Actor = Principal | SystemActor;

export type UserPrincipal = Principal & { kind: 'user' };

/** A caller who may change things: the CLI, or a user signed in with a password or session. */
export type Manager = UserPrincipal | SystemActor;

/**
 * Changes to the model need a full sign-in. A personal access token's
 * scopes cover packages only (pull, push, delete), so a token may read
 * through the API but not mint more tokens, change passwords or grant roles;
 * a CI token may only read.
 */
export function requireManager(actor: Actor, what: string): Manager {
  if (actor.kind === 'system') return actor;
  if (actor.kind === 'anonymous') throw new Unauthenticated(`sign in to ${what}`);
  if (actor.kind === 'ci') throw new AccessDenied(`a CI token cannot ${what}`);
  if (actor.allowed !== null) throw new AccessDenied(`an access token cannot ${what}; sign in with a password`);
  return actor;
}

/** Site administrators and the CLI. */
export function isSiteAdmin(actor: Actor): boolean {
  return actor.kind === 'system' || (actor.kind === 'user' && actor.isAdmin);
}

/** The account name a change is recorded under (the change journal); none for the CLI or anonymous callers. */
export function actorName(actor: Actor): string | undefined {
  return actor.kind === 'system' || actor.kind === 'anonymous' ? undefined : actor.name;
}
