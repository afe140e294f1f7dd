import { RegistryError } from '../oci/errors';

interface Window {
  failures: number;
  startedAt: number;
}

/**
 * Failed-login throttling, per user name and per client address: after
 * `maxFailures` within `windowMs` further attempts are refused with 429
 * until the window passes. Process-local: each replica throttles on its own.
 */
export class LoginThrottle {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly maxFailures = 10,
    private readonly windowMs = 5 * 60_000,
    private readonly maxKeys = 100_000,
  ) {}

  /** Throws TOOMANYREQUESTS while any of the keys is locked out. */
  check(keys: string[], now = Date.now()): void {
    for (const key of keys) {
      const w = this.windows.get(key);
      if (!w) continue;
      if (now - w.startedAt >= this.windowMs) {
        this.windows.delete(key);
        continue;
      }
      if (w.failures >= this.maxFailures) {
        const retryAfter = Math.ceil((w.startedAt + this.windowMs - now) / 1000);
        throw new RegistryError('TOOMANYREQUESTS', 'too many failed logins; try again later', {
          headers: { 'Retry-After': String(retryAfter) },
        });
      }
    }
  }

  fail(keys: string[], now = Date.now()): void {
    for (const key of keys) {
      const w = this.windows.get(key);
      if (w && now - w.startedAt < this.windowMs) w.failures += 1;
      else {
        if (this.windows.size >= this.maxKeys) this.evictOldest();
        this.windows.set(key, { failures: 1, startedAt: now });
      }
    }
  }

  succeed(keys: string[]): void {
    for (const key of keys) this.windows.delete(key);
  }

  private evictOldest(): void {
    const oldest = this.windows.keys().next().value;
    if (oldest !== undefined) this.windows.delete(oldest);
  }
}
