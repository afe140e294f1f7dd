import { StorageFullError, StorageUnavailableError } from '../../storage/storage-faults';

/** Redis replies that mean "not now": loading, failing over, busy with a script, a replica. */
const TRANSIENT_REPLIES = /^(LOADING|BUSY|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN|NOREPLICAS)\b/;

/**
 * A Redis error as a storage fault: `maxmemory` reached (OOM) is a full
 * store; a lost or refused connection, a timed-out command, retries given up
 * and the transient replies are an unavailable one. Other error replies
 * (a bad script, a wrong type) are bugs and stay as they are.
 */
export function asRedisFault(err: unknown): unknown {
  // By shape, not `instanceof Error`: errors made in another realm (a test VM) are errors too.
  const { name, message } = (err ?? {}) as { name?: unknown; message?: unknown };
  if (typeof message !== 'string') return err;
  if (name === 'ReplyError') {
    if (message.startsWith('OOM')) return new StorageFullError(err);
    return TRANSIENT_REPLIES.test(message) ? new StorageUnavailableError(err) : err;
  }
  // Everything else ioredis rejects with is about the connection: ECONNREFUSED, ECONNRESET,
  // "Connection is closed.", "Command timed out", MaxRetriesPerRequestError.
  return new StorageUnavailableError(err);
}

/** Runs a Redis operation, its faults typed. */
export async function guardRedis<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    throw asRedisFault(err);
  }
}
