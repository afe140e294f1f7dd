/**
 * Faults of the storage itself, as drivers and session stores report them:
 * what a client can do about them differs from a bug (a 500), so they are
 * typed here and the HTTP edge answers 507 or 503 with Retry-After.
 * A vanished file or object is not a fault: it means the upload or blob is
 * unknown (UploadNotFoundError, BlobNotFoundError).
 */
export class StorageFullError extends Error {
  constructor(override readonly cause?: unknown) {
    super(`storage is full${describe(cause)}`);
    this.name = 'StorageFullError';
  }
}

export class StorageUnavailableError extends Error {
  constructor(
    override readonly cause?: unknown,
    /** How long a client should wait before retrying. */
    readonly retryAfterSeconds = 1,
  ) {
    super(`storage is unavailable${describe(cause)}`);
    this.name = 'StorageUnavailableError';
  }
}

export type StorageFault = StorageFullError | StorageUnavailableError;

export function isStorageFault(err: unknown): err is StorageFault {
  return err instanceof StorageFullError || err instanceof StorageUnavailableError;
}

/** Out of space or quota: a disk (errno) or the SQLite file on it. */
const FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/**
 * Local storage that is there but cannot serve right now: I/O errors, lost
 * permissions, a read-only remount, descriptor exhaustion, a hung network
 * mount, a locked or damaged SQLite file. Client disconnects (ECONNRESET on
 * the request) are deliberately absent: remote drivers translate their own
 * connection faults, so one on a request socket stays the client's.
 */
const UNAVAILABLE_CODES = new Set([
  'EIO',
  'EACCES',
  'EPERM',
  'EROFS',
  'EMFILE',
  'ENFILE',
  'EBUSY',
  'EAGAIN',
  'ETIMEDOUT',
  'ESTALE',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_READONLY',
  'SQLITE_CANTOPEN',
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
]);

/** The fault a filesystem or SQLite error stands for, or null when it is something else (ENOENT, a bug). */
export function localStorageFault(err: unknown): StorageFault | null {
  if (isStorageFault(err)) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  if (FULL_CODES.has(code)) return new StorageFullError(err);
  // SQLite's extended I/O codes: SQLITE_IOERR_WRITE, SQLITE_IOERR_FSYNC, …
  if (UNAVAILABLE_CODES.has(code) || code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_BUSY')) {
    return new StorageUnavailableError(err);
  }
  return null;
}

/** `err` as its storage fault if it is one, else unchanged: for `catch (err) { throw asLocalStorageFault(err) }`. */
export function asLocalStorageFault(err: unknown): unknown {
  return localStorageFault(err) ?? err;
}

/** Runs a local storage operation, its faults typed. */
export async function guardLocal<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    throw asLocalStorageFault(err);
  }
}

function describe(cause: unknown): string {
  const { code, message } = (cause ?? {}) as { code?: unknown; message?: unknown };
  if (typeof message !== 'string') return '';
  return `: ${typeof code === 'string' ? `${code} ` : ''}${message}`;
}
