import express, { type Request, type Response, type Router } from 'express';
import { isSiteAdmin } from '../auth/management/actor';
import { InvalidRequest } from '../auth/management/errors';
import { Unauthenticated } from '../auth/errors';
import { errorAnswer } from '../http/error-mapping';
import { sessionSecret } from '../http/api/api-authenticate';
import { layout } from './layout';
import { signInBody } from './pages/message-page';
import { accountBody } from './pages/account-page';
import { ANONYMOUS_VIEWER, field, fieldList, nextPath, type PageRenderer, send, single } from './web-http';
import type { WebAuthDependencies } from './web-router';
import { clearSessionCookie, setSessionCookie, type Viewer } from './web-viewer';

/** Form bodies: small, flat, a few fields; only on these routes. */
export const forms = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 });

const FLASHES: Readonly<Record<string, string>> = { revoked: 'The token was revoked.' };

/**
 * Sign in and out (the `berth_session` cookie, for the pages and the API) and
 * the account page: personal access tokens created (the secret shown once),
 * listed and revoked through AccessTokenService, as the API does.
 */
export function accountRoutes(auth: WebAuthDependencies, page: PageRenderer): Router {
  const router = express.Router();

  router.get('/-/sign-in', async (req, res) => {
    const viewer = await auth.viewers.viewer(req, res);
    send(res, 200, layout({ title: 'Sign in', viewer, body: signInBody(viewer.csrf, null, nextPath(single(req, 'next'))) }));
  });

  router.post('/-/sign-in', forms, async (req, res) => {
    await auth.viewers.checkForm(req);
    const next = nextPath(field(req, 'next'));
    try {
      const opened = await auth.management.sessions.open(field(req, 'username'), field(req, 'password'), req.ip ?? '');
      setSessionCookie(req, res, opened.secret, auth.management.sessions.ttlMs);
      res.set('Cache-Control', 'no-store').redirect(303, next);
    } catch (err) {
      const answer = errorAnswer(err, 'management');
      if (answer.status >= 500) throw err;
      const problem = answer.status === 429 ? answer.message : 'Wrong user name or password.';
      send(res, answer.status, layout({ title: 'Sign in', viewer: ANONYMOUS_VIEWER, body: signInBody(null, problem, next) }));
    }
  });

  router.post('/-/sign-out', forms, async (req, res) => {
    await auth.viewers.checkForm(req);
    const secret = sessionSecret(req);
    if (secret) await auth.management.sessions.close(secret);
    clearSessionCookie(req, res);
    res.redirect(303, '/');
  });

  router.get('/-/account', async (req, res) => {
    const viewer = await auth.viewers.viewer(req, res);
    if (viewer.principal.kind !== 'user') return res.redirect(303, '/-/sign-in?next=/-/account');
    const flash = FLASHES[single(req, 'done') ?? ''] ?? null;
    await page(req, res, 'Account', (v) => account(v, null, flash));
  });

  router.post('/-/tokens', forms, async (req, res) => {
    await auth.viewers.checkForm(req);
    const viewer = await signedIn(req, res);
    const days = field(req, 'days');
    const minted = await auth.management.tokens.createPersonal(viewer.principal, userName(viewer), {
      name: field(req, 'name'),
      scopes: fieldList(req, 'scope'),
      expiresInDays: /^\d{1,5}$/.test(days) ? Number(days) : undefined,
    });
    await page(req, res, 'Account', (v) => account(v, minted, null));
  });

  router.post('/-/tokens/:id/revoke', forms, async (req, res) => {
    await auth.viewers.checkForm(req);
    const viewer = await signedIn(req, res);
    const id = String(req.params.id);
    if (!/^\d{1,15}$/.test(id)) throw new InvalidRequest('no such token');
    await auth.management.tokens.revoke(viewer.principal, Number(id));
    res.redirect(303, '/-/account?done=revoked');
  });

  async function account(viewer: Viewer, minted: Parameters<typeof accountBody>[3], flash: string | null) {
    const name = userName(viewer);
    const [me, tokens] = await Promise.all([
      auth.management.accounts.me(viewer.principal),
      auth.management.tokens.list(viewer.principal, name),
    ]);
    return accountBody(
      me,
      tokens.filter((t) => t.kind === 'pat'),
      viewer.csrf ?? '',
      minted,
      flash,
      isSiteAdmin(viewer.principal),
    );
  }

  async function signedIn(req: Request, res: Response): Promise<Viewer> {
    const viewer = await auth.viewers.viewer(req, res);
    res.locals.viewer = viewer;
    userName(viewer);
    return viewer;
  }

  return router;
}

/** The signed-in user's name; anyone else is refused as the services would refuse them. */
function userName(viewer: Viewer): string {
  if (viewer.principal.kind !== 'user') throw new Unauthenticated('sign in first');
  return viewer.principal.name;
}
