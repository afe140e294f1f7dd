import { createHash, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
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
  /** Most tokens whose signature check is remembered at once; defaults to 10 000. */
  verifiedCacheSize?: number;
}

const DEFAULT_VERIFIED_CACHE_SIZE = 10_000;

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

/**
 * The claims Berth relies on, checked after the signature: a token signed by
 * a key we hold but shaped otherwise (an old release, a bug, a leaked key)
 * must be refused as invalid, not crash the request that carries it.
 */
const credentialShape = z.discriminatedUnion('type', [
  z.object({ type: z.literal('password') }),
  z.object({ type: z.literal('session') }),
  z.object({ type: z.literal('pat'), tokenId: z.number().int() }),
  z.object({ type: z.literal('ci'), tokenId: z.number().int() }),
  z.object({ type: z.literal('refresh'), refreshId: z.number().int(), tokenId: z.number().int().nullable() }),
]);
const claimsShape = z.object({
  exp: z.number(),
  nbf: z.number(),
  access: z.array(z.object({ type: z.enum(['repository', 'registry']), name: z.string(), actions: z.array(z.string()) })),
  berth: z.object({ uid: z.number().int(), cred: credentialShape }).optional(),
});

/** A token whose signature, issuer and audience already checked out, and the key that signed it. */
interface VerifiedEntry {
  kid: string;
  claims: Claims;
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
  /**
   * Clients reuse one token for every request until it expires, and an ES256
   * verify per request costs a large share of small-request throughput. Keyed
   * by a hash so the cache holds no usable bearer secrets.
   */
  private readonly verified = new Map<string, VerifiedEntry>();
  private readonly verifiedCacheSize: number;

  constructor(
    private readonly keys: SigningKeys,
    private readonly authorizer: Authorizer,
    private readonly authenticator: Authenticator,
    private readonly options: TokenServiceOptions,
  ) {
    this.verifiedCacheSize = Math.max(1, options.verifiedCacheSize ?? DEFAULT_VERIFIED_CACHE_SIZE);
  }

  /** How many verified tokens are remembered; for observing the bound. */
  get verifiedCacheEntries(): number {
    return this.verified.size;
  }

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
    const cacheKey = createHash('sha256').update(token).digest('hex');
    const cached = this.verified.get(cacheKey);
    const entry = cached ? await this.recheckCached(cacheKey, cached) : await this.verifySignature(token);
    const { claims } = entry;
    let principal: Principal = { kind: 'anonymous' };
    if (claims.berth) {
      // Never cached: this is what makes revoking a PAT or deleting a user bite at once.
      const resolved = await this.authenticator.resolve(claims.berth.cred, claims.berth.uid);
      if (!resolved) throw new InvalidTokenError('the credential behind this token is no longer valid');
      principal = resolved;
    }
    if (!cached) this.remember(cacheKey, entry);
    // A copy, so a caller that edits its grants cannot widen the next request's.
    return { principal, access: claims.access.map((a) => ({ ...a, actions: [...a.actions] })) };
  }

  private async verifySignature(token: string): Promise<VerifiedEntry> {
    const decoded = decodeUnverified(token);
    if (!decoded || typeof decoded.payload === 'string') throw new InvalidTokenError('malformed token');
    // Only our algorithm, and only keys we hold: refuses `alg: none` and HS256-with-public-key.
    if (decoded.header.alg !== JWT_ALGORITHM || typeof decoded.header.kid !== 'string' || !decoded.header.kid) {
      throw new InvalidTokenError('unexpected token algorithm');
    }
    const kid = decoded.header.kid;
    const key = await this.keys.publicKey(kid);
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
    if (!claimsShape.safeParse(claims).success) throw new InvalidTokenError('token lacks required claims');
    return { kid, claims };
  }

  /**
   * Only the signature check is skipped: the key must still be unretired and
   * the clock still inside [nbf, exp), refused in the same order and with the
   * same messages as a full verify, so a hit and a miss are indistinguishable.
   */
  private async recheckCached(cacheKey: string, entry: VerifiedEntry): Promise<VerifiedEntry> {
    if (!(await this.keys.publicKey(entry.kid))) {
      this.verified.delete(cacheKey);
      throw new InvalidTokenError('unknown signing key');
    }
    const now = Math.floor(Date.now() / 1000);
    // jsonwebtoken's rules, with its default of no clock tolerance.
    if (entry.claims.nbf > now) throw new InvalidTokenError('jwt not active');
    if (now >= entry.claims.exp) {
      this.verified.delete(cacheKey);
      throw new InvalidTokenError('jwt expired');
    }
    return entry;
  }

  private remember(cacheKey: string, entry: VerifiedEntry): void {
    const now = Math.floor(Date.now() / 1000);
    // Tokens mostly share one lifetime, so the oldest insertions expire first:
    // dropping expired ones from the front is cheap and keeps memory close to live tokens.
    for (const [key, old] of this.verified) {
      if (old.claims.exp > now) break;
      this.verified.delete(key);
    }
    if (this.verified.size >= this.verifiedCacheSize) {
      for (const [key, old] of this.verified) if (old.claims.exp <= now) this.verified.delete(key);
    }
    while (this.verified.size >= this.verifiedCacheSize) {
      const oldest = this.verified.keys().next();
      if (oldest.done) break;
      this.verified.delete(oldest.value);
    }
    this.verified.set(cacheKey, entry);
  }
}

/**
 * The header and payload before any check. jsonwebtoken's decode throws a
 * SyntaxError when a segment is not JSON (and returns null for other junk):
 * both are a malformed token, never a server error.
 */
function decodeUnverified(token: string): jwt.Jwt | null {
  try {
    return jwt.decode(token, { complete: true });
  } catch {
    return null;
  }
}
