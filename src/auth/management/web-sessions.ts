import type { Authenticator } from '../authenticator';
import type { WebSessionStore } from '../stores/web-session-store';
import type { Principal } from '../principal';
import { hashSecret, newSecret } from '../secrets';

import { Unauthenticated } from '../errors';

/**
 * Browser sessions for the management API: opened with a password (never
 * with a token, which would turn a narrowed credential into a full one),
 * stored hashed, ended by logging out or by expiry.
 */
export class WebSessions {
  constructor(
    private readonly sessions: WebSessionStore,
    private readonly authenticator: Authenticator,
    readonly ttlMs: number = 12 * 3600_000,
  ) {}

  /** username + password → a session secret. Failures count towards the login throttle. */
  async open(
    username: string,
    password: string,
    clientAddress: string,
  ): Promise<{ secret: string; principal: Principal & { kind: 'user' }; expiresAt: number }> {
    const principal = await this.authenticator.login(username, password, clientAddress);
    if (principal.kind !== 'user' || principal.credential.type !== 'password') {
      throw new Unauthenticated('sessions are opened with a password, not a token');
    }
    const secret = newSecret('berth_session');
    const expiresAt = Date.now() + this.ttlMs;
    await this.sessions.createSession(hashSecret(secret), principal.userId, expiresAt);
    return { secret, principal: { ...principal, credential: { type: 'session' } }, expiresAt };
  }

  /** The user behind a session secret, or null when it is unknown, expired or its user gone. */
  async principal(secret: string): Promise<Principal | null> {
    const userId = await this.sessions.sessionUser(hashSecret(secret), Date.now());
    if (userId === null) return null;
    return this.authenticator.resolve({ type: 'session' }, userId);
  }

  async close(secret: string): Promise<void> {
    await this.sessions.deleteSession(hashSecret(secret));
  }
}
