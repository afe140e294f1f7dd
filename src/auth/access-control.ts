import type { Authorizer } from './authorizer';
import type { PackageStore } from './stores/package-store';
import type { PackageAction, Principal } from './principal';
import type { ResourceAccess } from './scope';

/** How a request proved its identity, and for bearer tokens what the token grants. */
export interface AuthContext {
  principal: Principal;
  via: 'none' | 'basic' | 'bearer' | 'session';
  /** The JWT's access claim; only for `via: 'bearer'`, where it, not the live model, decides. */
  grants?: ResourceAccess[];
}

export type AccessAction = PackageAction | 'catalog' | 'login';

/**
 * allowed: go ahead. challenge: answer 401 with a Bearer challenge, so the
 * client fetches (another) token. denied: 403, the caller is known and may not.
 */
export type AccessOutcome = 'allowed' | 'challenge' | 'denied';

/**
 * Decides one request: a bearer token is held to its `access` claim; Basic
 * and session callers are checked against the live permission model. A
 * first push into a namespace creates the package record, owned as the
 * authorizer says.
 */
export class AccessControl {
  constructor(
    private readonly authorizer: Authorizer,
    private readonly packages: PackageStore,
  ) {}

  async check(auth: AuthContext, action: AccessAction, name?: string): Promise<AccessOutcome> {
    if (action === 'login') return auth.via === 'none' ? 'challenge' : 'allowed';
    if (action === 'catalog') {
      if (auth.via === 'bearer') {
        const ok = auth.grants?.some((g) => g.type === 'registry' && g.name === 'catalog' && g.actions.includes('*'));
        return ok ? 'allowed' : 'challenge';
      }
      return auth.principal.kind === 'anonymous' ? 'challenge' : 'allowed';
    }
    if (name === undefined) return 'denied';
    let allowed: boolean;
    if (auth.via === 'bearer') {
      allowed = auth.grants?.some((g) => g.type === 'repository' && g.name === name && g.actions.includes(action)) ?? false;
    } else {
      allowed = (await this.authorizer.decide(auth.principal, name)).actions.has(action);
    }
    if (!allowed) return auth.principal.kind === 'anonymous' || auth.via === 'bearer' ? 'challenge' : 'denied';
    if (action === 'push') await this.ensurePackage(auth.principal, name);
    return 'allowed';
  }

  /** Whether the caller may see a package in listings (the catalog). */
  async canPull(principal: Principal, name: string): Promise<boolean> {
    return (await this.authorizer.decide(principal, name)).actions.has('pull');
  }

  private async ensurePackage(principal: Principal, name: string): Promise<void> {
    if (await this.packages.package(name)) return;
    const decision = await this.authorizer.decide(principal, name);
    if (!decision.create) return;
    await this.packages.ensurePackage({
      name,
      ownerId: decision.create.ownerId,
      sourceRepositoryId: decision.create.sourceRepositoryId,
      visibility: 'private',
      createdAt: Date.now(),
    });
  }
}
