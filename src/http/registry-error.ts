/**
 * Every code the registry API (/v2 and /token) answers with, declared once:
 * the OCI distribution-spec codes (spec.md, "Error Codes") plus the few Berth
 * needs for routes and internal failures. The domain raises typed errors
 * (src/domain-error.ts); error-mapping.ts gives each its code here. The
 * management API's codes are in management-error-codes.ts.
 */
export const ERROR_CODES = Object.freeze({
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  // Berth's own: the spec has no code for these situations.
  RANGE_INVALID: { status: 416, message: 'requested range not satisfiable' },
  CONFLICT: { status: 409, message: 'the resource is still referenced' },
  // The answer to a malformed body or query of the management API (/api/v1) or the token endpoint.
  REQUEST_INVALID: { status: 400, message: 'request invalid' },
  // Docker Registry v2's code for a bad `n`, which clients already know.
  PAGINATION_NUMBER_INVALID: { status: 400, message: 'invalid number of results requested' },
  NOT_FOUND: { status: 404, message: 'no such endpoint' },
  UNAVAILABLE: { status: 503, message: 'service unavailable' },
  UPSTREAM_FAILED: { status: 502, message: 'another registry refused or failed the request' },
  // The disk or quota behind blob storage or the upload sessions is exhausted (RFC 4918's 507).
  STORAGE_FULL: { status: 507, message: 'insufficient storage' },
  UNKNOWN: { status: 500, message: 'unknown error' },
} as const satisfies Record<string, { status: number; message: string }>);

export type ErrorCode = keyof typeof ERROR_CODES;

export interface RegistryErrorOptions {
  /** Headers the response must carry, e.g. `Range` on an upload the client must resume. */
  headers?: Record<string, string>;
  /**
   * The spec pins some situations to a status that differs from the code's
   * usual one: an out-of-order chunk is BLOB_UPLOAD_INVALID with 416.
   */
  status?: number;
}

/**
 * An answer only the HTTP edge can phrase: an auth challenge with its
 * WWW-Authenticate, an unsupported method or grant type. Nothing below
 * src/http raises it.
 */
export class RegistryError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(
    readonly code: ErrorCode,
    readonly detail?: unknown,
    options: RegistryErrorOptions = {},
  ) {
    super(typeof detail === 'string' ? `${code}: ${detail}` : ERROR_CODES[code].message);
    this.name = 'RegistryError';
    this.status = options.status ?? ERROR_CODES[code].status;
    this.headers = options.headers ?? {};
  }

  toJSON(): { errors: Array<{ code: ErrorCode; message: string; detail: unknown }> } {
    return {
      errors: [{ code: this.code, message: ERROR_CODES[this.code].message, detail: this.detail ?? null }],
    };
  }
}

export function isRegistryError(err: unknown): err is RegistryError {
  return err instanceof RegistryError;
}
