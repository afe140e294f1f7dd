import { LoginThrottled } from './errors';

/** Failed logins for one key (a user name or a client address) since the window opened. */
export interface FailureWindow {
  failures: number;
  startedAt: number;
}

/** Where failed-login windows live: this process's memory, or the database every process shares. */
export interface LoginFailureStore {
  /** The key's window, or null when it has none. */
  get(key: string): Promise<FailureWindow | null>;
  /** Counts a failure: one more in an open window, else a new window from `now`. */
  recordFailure(key: string, now: number, windowMs: number): Promise<void>;
  /** Forgets the keys' windows (a successful login). */
  clear(keys: string[]): Promise<void>;
}

/** Windows in this process only; for tests and for a process that shares no database. */
export class MemoryLoginFailureStore implements LoginFailureStore {
  private readonly windows = new Map<string, FailureWindow>();

  constructor(private readonly maxKeys = 100_000) {}

  async get(key: string): Promise<FailureWindow | null> {
    return this.windows.get(key) ?? null;
  }

  async recordFailure(key: string, now: number, windowMs: number): Promise<void> {
    const w = this.windows.get(key);
    if (w && now - w.startedAt < windowMs) {
      w.failures += 1;
      return;
    }
    this.windows.delete(key);
    if (this.windows.size >= this.maxKeys) {
      const oldest = this.windows.keys().next().value;
      if (oldest !== undefined) this.windows.delete(oldest);
    }
    this.windows.set(key, { failures: 1, startedAt: now });
  }

  async clear(keys: string[]): Promise<void> {
    for (const key of keys) this.windows.delete(key);
  }
}

/**
 * Failed-login throttling, per user name and per client address: after
 * `maxFailures` within `windowMs` further attempts are refused with 429
 * until the window passes. The windows live in a LoginFailureStore; with the
 * database one every worker and replica on the database counts together, so
 * running more processes does not multiply an attacker's allowance.
 */
export class LoginThrottle {
  constructor(
    private readonly store: LoginFailureStore = new MemoryLoginFailureStore(),
    private readonly maxFailures = 10,
    private readonly windowMs = 5 * 60_000,
  ) {}

  /** Throws LoginThrottled while any of the keys is locked out. */
  async check(keys: string[], now = Date.now()): Promise<void> {
    for (const key of keys) {
      const w = await this.store.get(key);
      if (!w || now - w.startedAt >= this.windowMs) continue;
      if (w.failures >= this.maxFailures) {
        const retryAfter = Math.ceil((w.startedAt + this.windowMs - now) / 1000);
        throw new LoginThrottled(retryAfter);
      }
    }
  }

  async fail(keys: string[], now = Date.now()): Promise<void> {
    for (const key of keys) await this.store.recordFailure(key, now, this.windowMs);
  }

  async succeed(keys: string[]): Promise<void> {
    await this.store.clear(keys);
  }
}
