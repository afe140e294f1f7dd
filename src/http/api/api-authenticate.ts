import type { NextFunction, Request, Response } from 'express';
import type { AuthContext } from '../../auth/access-control';
import type { Authenticator } from '../../auth/authenticator';
import type { WebSessions } from '../../auth/management/web-sessions';
import { ANONYMOUS } from '../../auth/principal';
import { hashSecret } from '../../auth/secrets';
import { AccessDenied, Unauthenticated } from '../../auth/errors';
import { decodeBasic, parseAuthorization } from '../authorization-header';

export const SESSION_COOKIE = 'berth_session';

/**
 * Who calls the management API: a session cookie, `Authorization: Bearer`
 * with a personal access or CI token (not a registry JWT: those grant
 * package actions only), or Basic (password or token). None is anonymous,
 * which sees public things only. Cookie-authenticated changes from another
 * site are refused, on top of SameSite=Lax.
 */
export function apiAuthenticate(authenticator: Authenticator, sessions: WebSessions) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    req.auth = await identify(req, authenticator, sessions);
    if (req.auth.via === 'session' && !SAFE_METHODS.has(req.method)) refuseCrossSite(req);
    next();
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

async function identify(req: Request, authenticator: Authenticator, sessions: WebSessions): Promise<AuthContext> {
  const header = req.headers.authorization;
  if (header) {
    const { scheme, value } = parseAuthorization(header);
    if (scheme === 'bearer') {
      if (!value.startsWith('berth_pat_') && !value.startsWith('berth_ci_')) {
        throw new Unauthenticated('the API takes a personal access token as Bearer');
      }
      // Throttled per address and per token: a shared empty user name would let anyone lock every token out.
      const throttleName = `bearer:${hashSecret(value).slice(0, 16)}`;
      return { principal: await authenticator.login(throttleName, value, req.ip ?? ''), via: 'bearer' };
    }
    if (scheme === 'basic') {
      const credentials = decodeBasic(value);
      if (!credentials) throw new Unauthenticated('malformed Basic credentials');
      return { principal: await authenticator.login(credentials.username, credentials.password, req.ip ?? ''), via: 'basic' };
    }
    throw new Unauthenticated(`unsupported authorization scheme: ${scheme}`);
  }
  const secret = sessionSecret(req);
  if (secret) {
    const principal = await sessions.principal(secret);
    if (!principal) throw new Unauthenticated('the session has ended; sign in again');
    return { principal, via: 'session' };
  }
  return { principal: ANONYMOUS, via: 'none' };
}

/** The session secret from the Cookie header, if any. */
export function sessionSecret(req: Request): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

function refuseCrossSite(req: Request): void {
  if (req.headers['sec-fetch-site'] === 'cross-site') throw new AccessDenied('cross-site request refused');
  const origin = req.headers.origin;
  if (origin === undefined) return;
  let host: string | null;
  try {
    host = new URL(origin).host;
  } catch {
    host = null;
  }
  if (host !== req.headers.host) throw new AccessDenied('cross-origin request refused');
}
