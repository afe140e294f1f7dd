/**
 * The media types a client accepts, from its Accept headers (clients send
 * several headers, or one with a comma list; q=0 excludes). Null means
 * "anything" (no header, or a wildcard).
 */
export function acceptedMediaTypes(header: string | string[] | undefined): Set<string> | null {
  if (header === undefined) return null;
  const values = (Array.isArray(header) ? header : [header]).flatMap((h) => h.split(','));
  const accepted = new Set<string>();
  let listed = false;
  for (const value of values) {
    const [type, ...params] = value.split(';').map((p) => p.trim());
    if (!type) continue;
    listed = true;
    const q = params.find((p) => p.startsWith('q='));
    if (q && Number(q.slice(2)) === 0) continue;
    if (type === '*/*' || type === 'application/*') return null;
    accepted.add(type.toLowerCase());
  }
  // A header that lists types but refuses them all (q=0) accepts nothing.
  return listed ? accepted : null;
}
