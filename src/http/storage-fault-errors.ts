import { RegistryError } from '../oci/errors';
import { DatabaseUnavailableError } from '../persistence/database-faults';
import { BlobNotFoundError, UploadNotFoundError } from '../storage/blob-store';
import { localStorageFault, StorageFullError, StorageUnavailableError } from '../storage/storage-faults';

/**
 * The registry error a domain storage error stands for, or null for anything
 * else. The fault is the server's, so the answer says so: 507 when storage is
 * full, 503 with Retry-After when it cannot serve right now. A vanished upload
 * or blob is what it means to the client: unknown. Untyped filesystem and
 * SQLite faults (the metadata index on a full disk) are recognised too, so
 * none of them ends as an unexplained 500. A database (PostgreSQL) that is
 * down, restarting or frozen is a wait, like unavailable storage: 503.
 */
export function storageRegistryError(err: unknown): RegistryError | null {
  if (err instanceof UploadNotFoundError) {
    return new RegistryError('BLOB_UPLOAD_UNKNOWN', `upload ${err.uploadId} is not in progress`);
  }
  if (err instanceof BlobNotFoundError) return new RegistryError('BLOB_UNKNOWN', { digest: err.digest });
  if (err instanceof DatabaseUnavailableError) {
    return new RegistryError('UNAVAILABLE', 'the database is unavailable; retry later', {
      headers: { 'Retry-After': String(err.retryAfterSeconds) },
    });
  }
  const fault = localStorageFault(err);
  if (fault instanceof StorageFullError) return new RegistryError('STORAGE_FULL', 'storage is full; free space or retry later');
  if (fault instanceof StorageUnavailableError) {
    return new RegistryError('UNAVAILABLE', 'storage is unavailable; retry later', {
      headers: { 'Retry-After': String(fault.retryAfterSeconds) },
    });
  }
  return null;
}
