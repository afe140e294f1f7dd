import type { Hash } from 'node:crypto';

interface CachedHash {
  hash: Hash;
  /** Bytes the hash has consumed; valid only while it equals the session offset. */
  offset: number;
}

/**
 * Running SHA-256 states of uploads in progress, so that completing an
 * upload costs no re-read. Node cannot serialize a hash state, so this is
 * process-local: a miss (restart, another replica) re-hashes the staged
 * bytes once. Bounded so abandoned uploads cannot grow it without limit.
 */
export class UploadHashCache {
  private readonly entries = new Map<string, CachedHash>();

  constructor(private readonly maxEntries = 10_000) {}

  take(uploadId: string, offset: number): Hash | null {
    const entry = this.entries.get(uploadId);
    this.entries.delete(uploadId);
    return entry && entry.offset === offset ? entry.hash : null;
  }

  put(uploadId: string, hash: Hash, offset: number): void {
    this.entries.delete(uploadId);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(uploadId, { hash, offset });
  }

  forget(uploadId: string): void {
    this.entries.delete(uploadId);
  }
}
