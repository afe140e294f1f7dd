import { createHmac, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { AccessDenied } from '../auth/errors';
import type { WebSessions } from '../auth/management/web-sessions';
import { ANONYMOUS, type Principal } from '../auth/principal';
import type { SigningKeys } from '../auth/signing-keys';
import { SESSION_COOKIE, sessionSecret } from '../http/api/api-authenticate';

/** Who is looking at a page: the session cookie's user, or anonymous; the session secret when there is one. */
export interface Viewer {
  principal: Principal;
  /** The CSRF token forms carry, when signed in. */
  csrf: string | null;
}

export interface ViewerDependencies {
  sessions: WebSessions;
  keys: Pick<SigningKeys, 'signingKey'>;
}

/**
 * The pages know their visitor from the `berth_session` cookie only (a browser
 * sends no Authorization header of its own accord). An ended session is
 * anonymous, and its cookie is cleared. Every form that changes something
 * carries a CSRF token, an HMAC of the session secret under a key derived from
 * the registry's signing key, checked on POST with the origin of the request.
 */
export class WebViewers {
  constructor(private readonly deps: ViewerDependencies) {}

  async viewer(req: Request, res: Response): Promise<Viewer> {
    const secret = sessionSecret(req);
    if (!secret) return { principal: ANONYMOUS, csrf: null };
    const principal = await this.deps.sessions.principal(secret);
    if (!principal) {
      clearSessionCookie(req, res);
      return { principal: ANONYMOUS, csrf: null };
    }
    return { principal, csrf: await this.csrfFor(secret) };
  }

  /** Refuses a POST from another site, and one whose token does not match the session's. */
  async checkForm(req: Request): Promise<void> {
    refuseCrossSite(req);
    const secret = sessionSecret(req);
    if (!secret) return;
    const sent = (req.body as Record<string, unknown> | undefined)?.csrf;
    const expected = await this.csrfFor(secret);
    if (typeof sent !== 'string' || sent.length !== expected.length || !timingSafeEqual(Buffer.from(sent), Buffer.from(expected))) {
      throw new AccessDenied('the form has expired; reload the page and try again');
    }
  }

  private async csrfFor(secret: string): Promise<string> {
    const key = createHmac('sha256', (await this.deps.keys.signingKey()).privatePem)
      .update('berth web csrf')
      .digest();
    return createHmac('sha256', key).update(secret).digest('base64url');
  }
}

/** The session cookie for the whole site: the pages and the API (/api) both read it. */
export function setSessionCookie(req: Request, res: Response, secret: string, maxAgeMs: number): void {
  res.cookie(SESSION_COOKIE, secret, { httpOnly: true, sameSite: 'lax', secure: req.secure, path: '/', maxAge: maxAgeMs });
}

export function clearSessionCookie(req: Request, res: Response): void {
  res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure: req.secure, path: '/' });
}

function refuseCrossSite(req: Request): void {
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') throw new AccessDenied('cross-site request refused');
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

/**
 * Headers every page carries: a CSP with no inline script or style, no framing, no sniffing, same-origin referrers.
 * `connect-src 'self'`: live search fetches the search API of this origin, nothing else.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
};

export function pageHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set(PAGE_HEADERS);
  next();
}
