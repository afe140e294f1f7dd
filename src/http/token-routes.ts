import express, { type Request, type Response, type Router } from 'express';
import type { Authenticator } from '../auth/authenticator';
import { newSecret, hashSecret } from '../auth/secrets';
import type { IdentityStores } from '../auth/stores/identity-stores';
import { ANONYMOUS, type Principal } from '../auth/principal';
import type { SigningKeys } from '../auth/signing-keys';
import type { TokenService } from '../auth/token-service';
import { RegistryError } from './registry-error';
import { Unauthenticated } from '../auth/errors';
import { InvalidRequest } from '../auth/management/errors';
import { decodeBasic, parseAuthorization } from './authorization-header';
import { bodyParserErrors } from './body-parser-errors';

export interface TokenRouteDependencies {
  tokens: TokenService;
  authenticator: Authenticator;
  identities: Pick<IdentityStores, 'tokens'>;
  keys: SigningKeys;
  refreshTokenTtlMs: number;
}

/**
 * The Docker token service (docs: "Token Authentication Specification" and
 * "OAuth2 Token Authentication"): GET /token with Basic auth or none, and
 * POST /token with the password and refresh_token grants.
 */
export function tokenRoutes(deps: TokenRouteDependencies): Router {
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: '16kb' });

  router.get('/token', async (req, res) => {
    const principal = await basicPrincipal(req, deps);
    const issued = await deps.tokens.issue(principal, queryList(req, 'scope'));
    const body: Record<string, unknown> = {
      token: issued.token,
      access_token: issued.token,
      expires_in: issued.expiresIn,
      issued_at: issued.issuedAt,
    };
    if (req.query.offline_token === 'true' && principal.kind === 'user') {
      body.refresh_token = await mintRefreshToken(principal, deps);
    }
    noStore(res).status(200).json(body);
  });

  router.post('/token', form, async (req, res) => {
    const params = formParams(req.body);
    let principal: Principal;
    if (params.grant_type === 'password') {
      if (!params.username || params.password === undefined) throw new Unauthenticated('username and password are required');
      principal = await deps.authenticator.login(params.username, params.password, req.ip ?? '');
    } else if (params.grant_type === 'refresh_token') {
      if (!params.refresh_token) throw new Unauthenticated('refresh_token is required');
      principal = await deps.authenticator.refresh(params.refresh_token);
    } else {
      throw new RegistryError('UNSUPPORTED', `unsupported grant_type: ${params.grant_type ?? '(none)'}`, { status: 400 });
    }
    const scopes = (params.scope ?? '').split(' ').filter(Boolean);
    const issued = await deps.tokens.issue(principal, scopes);
    const body: Record<string, unknown> = {
      access_token: issued.token,
      token: issued.token,
      expires_in: issued.expiresIn,
      issued_at: issued.issuedAt,
      scope: scopes.join(' '),
    };
    if (params.grant_type === 'password' && params.access_type === 'offline' && principal.kind === 'user') {
      body.refresh_token = await mintRefreshToken(principal, deps);
    }
    noStore(res).status(200).json(body);
  });

  router.get('/token/jwks.json', async (_req, res) => {
    res.status(200).json(await deps.keys.jwks());
  });
  router.use(bodyParserErrors);
  return router;
}

async function basicPrincipal(req: Request, deps: TokenRouteDependencies): Promise<Principal> {
  const header = req.headers.authorization;
  if (!header) return ANONYMOUS;
  const { scheme, value } = parseAuthorization(header);
  if (scheme !== 'basic') throw new Unauthenticated('the token endpoint takes Basic credentials');
  const credentials = decodeBasic(value);
  if (!credentials) throw new Unauthenticated('malformed Basic credentials');
  return deps.authenticator.login(credentials.username, credentials.password, req.ip ?? '');
}

async function mintRefreshToken(principal: Principal & { kind: 'user' }, deps: TokenRouteDependencies): Promise<string> {
  const secret = newSecret('berth_rt');
  const c = principal.credential;
  const tokenId = c.type === 'pat' ? c.tokenId : c.type === 'refresh' ? c.tokenId : null;
  await deps.identities.tokens.createRefreshToken(principal.userId, tokenId, hashSecret(secret), Date.now() + deps.refreshTokenTtlMs);
  return secret;
}

/**
 * The form's fields as single strings. RFC 6749 §3.1: a parameter must not
 * be sent twice; a repeated one (which the parser turns into an array) is
 * refused rather than guessed at.
 */
function formParams(body: unknown): Record<string, string | undefined> {
  const params: Record<string, string | undefined> = {};
  if (typeof body !== 'object' || body === null) return params;
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (typeof value !== 'string') throw new InvalidRequest(`parameter sent more than once: ${key}`);
    params[key] = value;
  }
  return params;
}

function queryList(req: Request, key: string): string[] {
  const v = (req.query as Record<string, unknown>)[key];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

function noStore(res: Response): Response {
  return res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
}
