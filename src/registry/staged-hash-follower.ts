/**
 * A hash of record for uploads staged on a disk that several processes of one host share (the cluster's
 * workers): one process follows each upload's staged bytes with the native SHA-256, whichever process wrote
 * them, so a chunk costs its own write wherever it lands and nothing is read back more than once.
 *
 * Why not the resumable hash every chunk can carry (hash-wasm, `session` hashing): on this machine it runs at
 * ~190 MiB/s against ~750 MiB/s for Node's native one, so an 8 MiB chunk spent ~42 ms hashing where
 * Distribution 3's whole PATCH took ~24 ms; a native hash's state cannot leave its process, so it stays in one.
 */
export interface StagedHashFollower {
  /** Bytes [0, offset) of the upload are staged for good (the session records that offset): hash them in time. */
  staged(uploadId: string, offset: number): void;
  /**
   * The hex SHA-256 of the upload's first `offset` bytes, which the caller has staged for good (an upload the
   * follower never saw is read from its start); null when it cannot tell (it already went past that offset, or
   * the bytes cannot be read): the caller re-hashes.
   */
  digestAt(uploadId: string, offset: number): Promise<string | null>;
  /** The upload is committed or discarded. */
  forget(uploadId: string): void;
}
