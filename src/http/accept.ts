/**
 * The media types a client accepts, from its Accept headers (clients send
 * several headers, or one with a comma list; q=0 excludes). Null means
 * "anything" (no header, or a wildcard).
 */
export function acceptedMediaTypes(header: string | string[] | undefined): Set<string> | null {
  if (header === undefined) return null;
  const values = (Array.isArray(header) ? header : [header]).flatMap((h) => h.split(','));
  const accepted = new Set<string>();
  for (const value of values) {
    const [type, ...params] = value.split(';').map((p) => p.trim());
    if (!type) continue;
    const q = params.find((p) => p.startsWith('q='));
    if (q && Number(q.slice(2)) === 0) continue;
    if (type === '*/*' || type === 'application/*') return null;
    accepted.add(type.toLowerCase());
  }
  return accepted.size > 0 ? accepted : null;
}
