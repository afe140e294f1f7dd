import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Authenticator } from './authenticator';
import type { Authorizer } from './authorizer';
import { type Credential, type Principal, principalName } from './principal';
import { parseScopes, requestedActions, type ResourceAccess } from './scope';
import { JWT_ALGORITHM, type SigningKeys } from './signing-keys';

export interface TokenServiceOptions {
  issuer: string;
  /** The `service` clients name and the JWT audience. */
  service: string;
  ttlSeconds: number;
}

export interface IssuedToken {
  token: string;
  expiresIn: number;
  issuedAt: string;
  access: ResourceAccess[];
}

/** Berth's private claim: whose credential the token came from, re-checked on every use. */
interface BerthClaim {
  uid: number;
  cred: Credential;
}

interface Claims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: ResourceAccess[];
  berth?: BerthClaim;
}

/** A verified bearer token: who it is for and what it grants. */
export interface VerifiedToken {
  principal: Principal;
  access: ResourceAccess[];
}

export class InvalidTokenError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidTokenError';
  }
}

/**
 * Docker token authentication: issues short-lived ES256 JWTs whose `access`
 * claim is the intersection of what was asked for and what the principal
 * may do, and verifies them on the registry side.
 */
export class TokenService {
  constructor(
    private readonly keys: SigningKeys,
    private readonly authorizer: Authorizer,
    private readonly authenticator: Authenticator,
    private readonly options: TokenServiceOptions,
  ) {}

  get service(): string {
    return this.options.service;
  }

  async issue(principal: Principal, scopes: string[]): Promise<IssuedToken> {
    const access: ResourceAccess[] = [];
    for (const requested of parseScopes(scopes)) {
      if (requested.type === 'registry') {
        if (principal.kind !== 'anonymous' && requested.actions.includes('*')) access.push(requested);
        continue;
      }
      const decision = await this.authorizer.decide(principal, requested.name);
      const granted = [...requestedActions(requested)].filter((a) => decision.actions.has(a));
      access.push({ type: 'repository', name: requested.name, actions: granted });
    }
    const now = Math.floor(Date.now() / 1000);
    const key = await this.keys.signingKey();
    const claims: Claims = {
      iss: this.options.issuer,
      sub: principalName(principal),
      aud: this.options.service,
      exp: now + this.options.ttlSeconds,
      // A little leeway for replicas whose clocks differ slightly.
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    if (principal.kind === 'user') claims.berth = { uid: principal.userId, cred: principal.credential };
    if (principal.kind === 'ci') claims.berth = { uid: principal.userId, cred: { type: 'ci', tokenId: principal.tokenId } };
    const token = jwt.sign(claims, key.privatePem, { algorithm: JWT_ALGORITHM, keyid: key.kid });
    return { token, expiresIn: this.options.ttlSeconds, issuedAt: new Date(now * 1000).toISOString(), access };
  }

  async verify(token: string): Promise<VerifiedToken> {
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded.payload === 'string') throw new InvalidTokenError('malformed token');
    // Only our algorithm, and only keys we hold: refuses `alg: none` and HS256-with-public-key.
    if (decoded.header.alg !== JWT_ALGORITHM || !decoded.header.kid) throw new InvalidTokenError('unexpected token algorithm');
    const key = await this.keys.publicKey(decoded.header.kid);
    if (!key) throw new InvalidTokenError('unknown signing key');
    let claims: Claims;
    try {
      claims = jwt.verify(token, key, {
        algorithms: [JWT_ALGORITHM],
        audience: this.options.service,
        issuer: this.options.issuer,
      }) as unknown as Claims;
    } catch (err) {
      throw new InvalidTokenError((err as Error).message);
    }
    if (typeof claims.exp !== 'number' || typeof claims.nbf !== 'number' || !Array.isArray(claims.access)) {
      throw new InvalidTokenError('token lacks required claims');
    }
    let principal: Principal = { kind: 'anonymous' };
    if (claims.berth) {
      const resolved = await this.authenticator.resolve(claims.berth.cred, claims.berth.uid);
      if (!resolved) throw new InvalidTokenError('the credential behind this token is no longer valid');
      principal = resolved;
    }
    return { principal, access: claims.access };
  }
}
