/** The state of one resumable blob upload, shared by every replica. */
export interface UploadSession {
  id: string;
  repository: string;
  /** Bytes accepted so far; the next chunk must start here. */
  offset: number;
  startedAt: number;
  updatedAt: number;
  /**
   * The upload service's digest state for exactly `offset` bytes, opaque to
   * stores: lets any replica continue or verify the upload without re-reading
   * it. Absent when unknown; stores keep it, or drop it when the offset moves without one.
   */
  hashState?: string;
}

/**
 * Where upload sessions live: in the SQLite file for the embedded default,
 * in Redis when scaled out. Locks serialize chunks of one upload across
 * processes; they expire so a crashed holder cannot wedge an upload.
 */
export interface UploadSessionStore {
  create(session: UploadSession): Promise<void>;
  get(id: string): Promise<UploadSession | null>;
  /**
   * Records progress and the hash state for the new offset, atomically (no
   * `hashState` clears the stored one); returns false if the session no longer exists.
   */
  setOffset(id: string, offset: number, updatedAt: number, hashState?: string): Promise<boolean>;
  delete(id: string): Promise<void>;
  /** Sessions not updated since `before` (ms epoch), at most `limit` of them. */
  listStale(before: number, limit: number): Promise<UploadSession[]>;
  /** Takes the session's lock for `owner` unless another owner holds an unexpired one. */
  tryLock(id: string, owner: string, ttlMs: number): Promise<boolean>;
  unlock(id: string, owner: string): Promise<void>;
  close(): Promise<void>;
}
