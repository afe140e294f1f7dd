import type { NextFunction, Request, Response } from 'express';
import type { AccessControl, AccessAction, AuthContext } from '../../auth/access-control';
import type { Authenticator } from '../../auth/authenticator';
import { ANONYMOUS } from '../../auth/principal';
import { formatScope } from '../../auth/scope';
import { InvalidTokenError, type TokenService } from '../../auth/token-service';
import { RegistryError } from '../registry-error';
import { Unauthenticated } from '../../auth/errors';
import { decodeBasic, parseAuthorization } from '../authorization-header';

declare module 'express-serve-static-core' {
  interface Request {
    auth?: AuthContext;
  }
}

export interface AuthDependencies {
  authenticator: Authenticator;
  tokens: TokenService;
  access: AccessControl;
  /** The token endpoint's absolute URL; derived from the request when unset. */
  realm?: string;
}

/**
 * Reads the Authorization header of a registry request: none (anonymous),
 * Basic (password, PAT or CI token), or Bearer (a token from /token).
 * Invalid credentials are a 401 at once; missing ones are anonymous.
 */
export function authenticate(deps: AuthDependencies) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    try {
      req.auth = await identify(req, deps);
      next();
    } catch (err) {
      next(err);
    }
  };
}

async function identify(req: Request, deps: AuthDependencies): Promise<AuthContext> {
  const header = req.headers.authorization;
  if (!header) return { principal: ANONYMOUS, via: 'none' };
  const { scheme, value } = parseAuthorization(header);
  if (scheme === 'bearer') {
    try {
      const verified = await deps.tokens.verify(value);
      return { principal: verified.principal, via: 'bearer', grants: verified.access };
    } catch (err) {
      if (err instanceof InvalidTokenError) throw unauthorized(req, deps, `invalid token: ${err.message}`, 'invalid_token');
      throw err;
    }
  }
  if (scheme === 'basic') {
    const credentials = decodeBasic(value);
    if (!credentials) throw unauthorized(req, deps, 'malformed Basic credentials');
    try {
      const principal = await deps.authenticator.login(credentials.username, credentials.password, req.ip ?? '');
      return { principal, via: 'basic' };
    } catch (err) {
      // A 401 must carry a challenge (RFC 7235), also when the Basic credentials were wrong.
      if (err instanceof Unauthenticated) throw unauthorized(req, deps, 'invalid username, password or token');
      throw err;
    }
  }
  throw unauthorized(req, deps, `unsupported authorization scheme: ${scheme}`);
}

/** The Bearer challenge that tells a client where to get a token and for which scope. */
export function challenge(req: Request, deps: AuthDependencies, scope?: string, error?: string): string {
  const realm = deps.realm ?? `${req.protocol}://${req.headers.host ?? '127.0.0.1'}/token`;
  const parts = [`realm="${realm}"`, `service="${deps.tokens.service}"`];
  if (scope) parts.push(`scope="${scope}"`);
  if (error) parts.push(`error="${error}"`);
  return `Bearer ${parts.join(',')}`;
}

function unauthorized(req: Request, deps: AuthDependencies, detail: string, error?: string): RegistryError {
  return new RegistryError('UNAUTHORIZED', detail, { headers: { 'WWW-Authenticate': challenge(req, deps, undefined, error) } });
}

/** The scope a route needs, as a client must request it from the token service. */
function scopeFor(action: AccessAction, name: string | undefined): string | undefined {
  if (action === 'catalog') return 'registry:catalog:*';
  if (action === 'login' || name === undefined) return undefined;
  // Pushing clients ask for pull too: they check for existing blobs first.
  const actions = action === 'push' ? ['pull', 'push'] : action === 'delete' ? ['delete'] : ['pull'];
  return formatScope(name, actions);
}

/** Applies the access decision for one matched route, raising the spec's 401/403. */
export async function enforce(req: Request, deps: AuthDependencies, action: AccessAction, name?: string): Promise<void> {
  const auth = req.auth ?? { principal: ANONYMOUS, via: 'none' as const };
  const outcome = await deps.access.check(auth, action, name);
  if (outcome === 'allowed') return;
  const scope = scopeFor(action, name);
  if (outcome === 'challenge') {
    const error = auth.via === 'bearer' ? 'insufficient_scope' : undefined;
    throw new RegistryError(
      'UNAUTHORIZED',
      { scope: scope ?? null },
      { headers: { 'WWW-Authenticate': challenge(req, deps, scope, error) } },
    );
  }
  throw new RegistryError('DENIED', { scope: scope ?? null });
}
