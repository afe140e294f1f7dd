/**
 * The codes the management API (/api/v1) answers with, declared once. They
 * share the registry's error envelope ({ errors: [{ code, message, detail }] })
 * but not its codes where OCI's do not fit: a missing user is not a
 * repository name unknown to the registry.
 */
export const MANAGEMENT_ERROR_CODES = Object.freeze({
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  FORBIDDEN: { status: 403, message: 'not allowed' },
  USER_NOT_FOUND: { status: 404, message: 'no such user' },
  ORGANIZATION_NOT_FOUND: { status: 404, message: 'no such organisation' },
  ACCOUNT_NOT_FOUND: { status: 404, message: 'no such user or organisation' },
  REPOSITORY_NOT_FOUND: { status: 404, message: 'no such repository' },
  PACKAGE_NOT_FOUND: { status: 404, message: 'no such package' },
  TOKEN_NOT_FOUND: { status: 404, message: 'no such access token' },
  SIGNING_KEY_NOT_FOUND: { status: 404, message: 'no such signing key' },
  NOT_FOUND: { status: 404, message: 'not found' },
  ALREADY_EXISTS: { status: 409, message: 'the name is taken' },
  CONFLICT: { status: 409, message: 'the resource is still needed' },
  REQUEST_INVALID: { status: 400, message: 'request invalid' },
  QUERY_INVALID: { status: 422, message: 'search query invalid' },
  TOO_MANY_REQUESTS: { status: 429, message: 'too many requests' },
  UNAVAILABLE: { status: 503, message: 'service unavailable' },
  UPSTREAM_FAILED: { status: 502, message: 'another registry refused or failed the request' },
  STORAGE_FULL: { status: 507, message: 'insufficient storage' },
  UNKNOWN: { status: 500, message: 'unknown error' },
} as const satisfies Record<string, { status: number; message: string }>);

export type ManagementErrorCode = keyof typeof MANAGEMENT_ERROR_CODES;
