import type { S3Client } from '@aws-sdk/client-s3';
import { StorageFullError, StorageUnavailableError } from '../storage-faults';

/** S3 error names that mean "not now": throttling, an internal error, a timeout, a refused request. */
const UNAVAILABLE_NAMES = new Set([
  'SlowDown',
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeout',
  'TimeoutError',
  'NetworkingError',
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'XMinioServerNotInitialized',
]);
/** Socket-level failures of the connection to S3 (never the client's request socket: this is the driver's own). */
const CONNECTION_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

interface S3ErrorShape {
  name?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

/**
 * An S3 client error as a storage fault, or unchanged when it is not one (a
 * 404 the driver turns into "unknown", a bug). S3's own 500/503 and SlowDown,
 * a reset or refused connection, a timeout and refused credentials are
 * unavailable storage; 507 or a server's "storage full" is a full one.
 */
export function asS3Fault(err: unknown): unknown {
  if (typeof err !== 'object' || err === null) return err;
  if (err instanceof StorageFullError || err instanceof StorageUnavailableError) return err;
  const e = err as S3ErrorShape;
  const status = e.$metadata?.httpStatusCode;
  if (status === 507 || e.name === 'XMinioStorageFull') return new StorageFullError(err);
  const throttled = e.name === 'SlowDown' || e.$retryable?.throttling === true;
  if (throttled) return new StorageUnavailableError(err, 2);
  if (
    (typeof e.name === 'string' && UNAVAILABLE_NAMES.has(e.name)) ||
    (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) ||
    (status !== undefined && status >= 500)
  ) {
    return new StorageUnavailableError(err);
  }
  return err;
}

const translating = new WeakSet<S3Client>();

/**
 * Makes every command of `client` fail with typed storage faults. Outermost
 * in the client's stack (initialize step), so the SDK's retries have been
 * spent when a fault arrives here. Once per client, however many stores share it.
 */
export function translateS3Faults(client: S3Client): void {
  if (translating.has(client)) return;
  translating.add(client);
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        throw asS3Fault(err);
      }
    },
    { step: 'initialize', name: 'berthStorageFaults', priority: 'high' },
  );
}
