/**
 * A named lease in the database: whoever holds it (and keeps renewing it) is the only collector running,
 * whatever the number of workers and replicas. A holder that dies loses it when it expires.
 */
export interface CollectorLease {
  /** Takes or renews the lease until `now + ttlMs`; false when another holder's lease has not expired. */
  acquire(holder: string, ttlMs: number, now: number): Promise<boolean>;
  /** Gives the lease up, if `holder` still has it. */
  release(holder: string): Promise<void>;
}
