import type { UploadHasher } from './upload-hasher';

interface CachedHash {
  hash: UploadHasher;
  /** Bytes the hash has consumed; valid only while it equals the session offset. */
  offset: number;
}

/**
 * Running SHA-256 states of uploads in progress, so that completing an
 * upload costs no re-read. A miss (restart, another replica) falls back on
 * the state saved with the session, or re-hashes the staged bytes once.
 * Bounded so abandoned uploads cannot grow it without limit.
 */
export class UploadHashCache {
  private readonly entries = new Map<string, CachedHash>();

  constructor(private readonly maxEntries = 10_000) {}

  take(uploadId: string, offset: number): UploadHasher | null {
    const entry = this.entries.get(uploadId);
    this.entries.delete(uploadId);
    return entry && entry.offset === offset ? entry.hash : null;
  }

  put(uploadId: string, hash: UploadHasher, offset: number): void {
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
