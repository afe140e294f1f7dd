import type { Readable, Writable } from 'node:stream';

/** An inclusive byte range, as HTTP Range headers express it. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Content-addressable blob storage with staged uploads. A blob is visible
 * under its digest only once `commitUpload` has made it so atomically;
 * partial upload data is never readable through `openRead`. Drivers know
 * nothing of HTTP, repositories or sessions: they store bytes.
 */
export interface BlobStore {
  /** Size of a committed blob, or null if it is not stored. */
  stat(digest: string): Promise<number | null>;
  /** Streams a committed blob, or a range of it. Throws BlobNotFoundError. */
  openRead(digest: string, range?: ByteRange): Promise<Readable>;
  /**
   * Writes a committed blob, or a range of it, to `destination`, resolving
   * once every byte was accepted (without ending it). Optional: a driver that
   * can do better than `openRead` piped (reused buffers, no per-read
   * allocation) offers it. Throws BlobNotFoundError before writing anything.
   */
  copyTo?(digest: string, destination: Writable, range?: ByteRange): Promise<void>;
  /** Removes a committed blob; a missing blob is not an error. */
  delete(digest: string): Promise<void>;

  /** Prepares staging space for a new upload. */
  createUpload(uploadId: string): Promise<void>;
  /** Bytes durably staged for an upload, or null if the upload does not exist. */
  uploadSize(uploadId: string): Promise<number | null>;
  /**
   * Opens the upload for writing at `offset`, which must equal the staged
   * size. Bytes written before a failure stay staged; the caller learns how
   * many from `uploadSize`.
   */
  openWrite(uploadId: string, offset: number): Promise<Writable>;
  /**
   * Streams the staged bytes `[start, end)` of an upload (start 0 when not given), to build a hash. A
   * driver that cannot (S3 parts are write-only) throws UploadNotReadableError.
   */
  readUpload(uploadId: string, end: number, start?: number): Promise<Readable>;
  /** Makes the staged bytes visible as the blob `digest`, atomically, and only once they are durable. */
  commitUpload(uploadId: string, digest: string): Promise<void>;
  /** Discards an upload's staged bytes; a missing upload is not an error. */
  abortUpload(uploadId: string): Promise<void>;
  /** All uploads with staged data and when each was last written, for purging orphans. */
  listUploads(): Promise<StagedUpload[]>;

  /**
   * Optional capability: a URL the client may fetch the committed blob from
   * directly (e.g. a pre-signed S3 URL), or null to stream it through Berth.
   * Drivers hand out URLs; redirecting is the HTTP layer's business.
   */
  readUrl?(digest: string): Promise<string | null>;

  /**
   * Optional capability: every committed blob, a page at a time (garbage collection's rare full-walk
   * reconciliation, which finds objects no index row knows). A driver that cannot list omits it.
   */
  listBlobs?(): AsyncIterable<StoredBlob[]>;

  /**
   * Optional capability: a cheap check that the storage is reachable and
   * usable (readiness probes); throws if it is not.
   */
  ping?(): Promise<void>;
}

export interface StoredBlob {
  digest: string;
  size: number;
  modifiedAt: number;
}

export interface StagedUpload {
  id: string;
  modifiedAt: number;
}

export class BlobNotFoundError extends Error {
  constructor(readonly digest: string) {
    super(`blob not found: ${digest}`);
    this.name = 'BlobNotFoundError';
  }
}

/** `readUpload` of bytes the driver cannot read back before commit (S3 multipart parts). */
export class UploadNotReadableError extends Error {
  constructor(readonly uploadId: string) {
    super(`staged bytes of upload ${uploadId} cannot be read back before commit`);
    this.name = 'UploadNotReadableError';
  }
}

export class UploadNotFoundError extends Error {
  constructor(readonly uploadId: string) {
    super(`upload not found: ${uploadId}`);
    this.name = 'UploadNotFoundError';
  }
}
