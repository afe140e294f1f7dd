/**
 * The database cannot serve right now: refused or reset connections, a
 * server shutting down or starting up, a server that does not answer in
 * time (stopped, frozen, partitioned). Not a bug (500) but a wait: the
 * HTTP edge answers 503 with Retry-After, and the pool recovers by itself
 * once the server is back.
 */
export class DatabaseUnavailableError extends Error {
  constructor(
    override readonly cause: unknown,
    /** How long a client should wait before retrying: a PostgreSQL restart takes about a second. */
    readonly retryAfterSeconds = 1,
  ) {
    super(`the database is unavailable${describe(cause)}`);
    this.name = 'DatabaseUnavailableError';
  }
}

/**
 * A transaction that kept failing to serialize against concurrent ones, past its retries: the
 * data is fine and nothing was written, so it is a wait too (503, Retry-After), not a bug.
 */
export class DatabaseContendedError extends DatabaseUnavailableError {
  constructor(cause: unknown, attempts: number) {
    super(cause);
    this.name = 'DatabaseContendedError';
    this.message = `a transaction conflicted with concurrent ones ${attempts} times${describe(cause)}`;
  }
}

/** Socket errors of the connection to the database (never of a client's request: only this driver sees them). */
const CONNECTION_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * SQLSTATEs that say the server, not the query, is the problem:
 * 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now,
 * 57014 query_canceled (our statement_timeout: the server is too slow to answer),
 * 53300 too_many_connections; class 08 is connection exceptions.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '57014', '53300']);

/**
 * node-postgres reports its own timeouts and lost connections by message only:
 * `timeout exceeded when trying to connect` (pool), `Connection terminated due to connection timeout`,
 * `Query read timeout` (client-side query_timeout), `Connection terminated unexpectedly`,
 * `Client has encountered a connection error and is not queryable`.
 */
const DRIVER_MESSAGES = [
  /timeout exceeded when trying to connect/i,
  /connection terminated/i,
  /query read timeout/i,
  /connection error and is not queryable/i,
  /client was closed and is not queryable/i,
];

/** `err` as a DatabaseUnavailableError when it is a connection-level fault, else null. */
export function databaseFault(err: unknown): DatabaseUnavailableError | null {
  if (err instanceof DatabaseUnavailableError) return err;
  // Duck-typed, not `instanceof Error`: socket errors may come from another realm (a vm context, as under jest).
  if (typeof err !== 'object' || err === null) return null;
  const code = 'code' in err && typeof err.code === 'string' ? err.code : '';
  const message = 'message' in err && typeof err.message === 'string' ? err.message : '';
  const unavailable =
    CONNECTION_ERRNOS.has(code) ||
    UNAVAILABLE_SQLSTATES.has(code) ||
    code.startsWith('08') ||
    DRIVER_MESSAGES.some((pattern) => pattern.test(message));
  return unavailable ? new DatabaseUnavailableError(err) : null;
}

function describe(cause: unknown): string {
  const message = typeof cause === 'object' && cause !== null && 'message' in cause ? cause.message : '';
  return typeof message === 'string' && message ? `: ${message}` : '';
}
