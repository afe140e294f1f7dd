/**
 * The Authorization header (RFC 9110 §11.6.2): `<scheme> <credentials>`, the
 * scheme case-insensitive. One parser for the registry, the token endpoint
 * and the management API, so all three read a header the same way.
 */
export interface AuthorizationHeader {
  /** Lowercased. */
  scheme: string;
  /** What follows the scheme, trimmed; empty when nothing does. */
  value: string;
}

export function parseAuthorization(header: string): AuthorizationHeader {
  const trimmed = header.trim();
  const space = trimmed.indexOf(' ');
  if (space < 0) return { scheme: trimmed.toLowerCase(), value: '' };
  return { scheme: trimmed.slice(0, space).toLowerCase(), value: trimmed.slice(space + 1).trim() };
}

/** Basic credentials (RFC 7617): base64 of `user:password`, the user holding no colon. Null when there is no colon. */
export function decodeBasic(value: string): { username: string; password: string } | null {
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
