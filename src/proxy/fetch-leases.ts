/**
 * Who is fetching a blob from an upstream, shared by every process on the database: the holder
 * fetches, the others wait for the blob to appear. A lease expires unless renewed, so a holder that
 * died frees its fetch for someone else.
 */
export interface FetchLeases {
  /** Takes the lease on `repository`@`digest` for `holder` unless another unexpired one holds it. */
  acquire(repository: string, digest: string, holder: string, now: number, ttlMs: number): Promise<boolean>;
  /** Extends the holder's lease; false if it lost it (expired and taken). */
  renew(repository: string, digest: string, holder: string, now: number, ttlMs: number): Promise<boolean>;
  release(repository: string, digest: string, holder: string): Promise<void>;
  /** Whether an unexpired lease is held on `repository`@`digest`. */
  held(repository: string, digest: string, now: number): Promise<boolean>;
}
