/** Signed-in browser sessions of the management UI, by a hash of their cookie secret. */
export interface WebSessionStore {
  createSession(secretHash: string, userId: number, expiresAt: number): Promise<void>;
  /** The session's user while it has not expired at `now`, else null. */
  sessionUser(secretHash: string, now: number): Promise<number | null>;
  deleteSession(secretHash: string): Promise<void>;
}
