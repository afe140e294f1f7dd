import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { IdentityService } from '../../auth/identity-service';
import { SESSION_COOKIE, sessionSecret } from './api-authenticate';
import { parseBody } from './body';

const signIn = z.strictObject({ username: z.string().min(1).max(200), password: z.string().min(1).max(4096) });

/** POST /session signs in with a password and sets the session cookie; DELETE signs out. */
export function sessionRoutes(service: IdentityService): Router {
  const router = express.Router();

  router.post('/session', async (req: Request, res: Response) => {
    const body = parseBody(signIn, req);
    const opened = await service.sessions.open(body.username, body.password, req.ip ?? '');
    res.cookie(SESSION_COOKIE, opened.secret, {
      httpOnly: true,
      sameSite: 'lax',
      secure: req.secure,
      path: '/api',
      maxAge: service.sessions.ttlMs,
    });
    res
      .set('Cache-Control', 'no-store')
      .status(200)
      .json({
        user: await service.accounts.me(opened.principal),
        expiresAt: new Date(opened.expiresAt).toISOString(),
      });
  });

  router.delete('/session', async (req: Request, res: Response) => {
    const secret = sessionSecret(req);
    if (secret) await service.sessions.close(secret);
    // The API's cookie and the web pages' (path `/`): the session behind either is closed above.
    for (const path of ['/api', '/']) res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure: req.secure, path });
    res.status(204).end();
  });
  return router;
}
