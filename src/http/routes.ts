import { isValidName } from '../oci/reference';

/**
 * The distribution-spec's endpoints (spec.md, "Endpoints"), named once. A
 * repository name may contain slashes, so routes are matched here rather
 * than by Express's path patterns, and every Location header is built from
 * the same table by `locations`.
 */
export type RouteName = 'base' | 'catalog' | 'tags' | 'manifest' | 'uploads' | 'upload' | 'blob' | 'referrers';

/** The access a route needs on its repository; enforced by the authorization middleware. */
export type RouteAction = 'none' | 'pull' | 'push' | 'delete' | 'catalog';

export interface RouteMatch {
  route: RouteName;
  name?: string;
  reference?: string;
  uploadId?: string;
  digest?: string;
}

const PATTERNS: ReadonlyArray<{ route: RouteName; pattern: RegExp; groups: Array<keyof RouteMatch> }> = [
  { route: 'base', pattern: /^$/, groups: [] },
  { route: 'catalog', pattern: /^_catalog$/, groups: [] },
  { route: 'tags', pattern: /^(.+)\/tags\/list$/, groups: ['name'] },
  { route: 'manifest', pattern: /^(.+)\/manifests\/([^/]+)$/, groups: ['name', 'reference'] },
  { route: 'uploads', pattern: /^(.+)\/blobs\/uploads\/?$/, groups: ['name'] },
  { route: 'upload', pattern: /^(.+)\/blobs\/uploads\/([^/]+)$/, groups: ['name', 'uploadId'] },
  { route: 'blob', pattern: /^(.+)\/blobs\/([^/]+)$/, groups: ['name', 'digest'] },
  { route: 'referrers', pattern: /^(.+)\/referrers\/([^/]+)$/, groups: ['name', 'digest'] },
  // Loose forms, tried last: an id holding a slash (`../../x` sent raw, or `..%2F` decoded on the
  // way) still reaches its route, which refuses the id with the route's own error (an unknown
  // upload, an invalid digest or tag) rather than "no such endpoint".
  { route: 'upload', pattern: /^(.+?)\/blobs\/uploads\/(.+)$/, groups: ['name', 'uploadId'] },
  { route: 'manifest', pattern: /^(.+?)\/manifests\/(.+)$/, groups: ['name', 'reference'] },
  { route: 'referrers', pattern: /^(.+?)\/referrers\/(.+)$/, groups: ['name', 'digest'] },
  { route: 'blob', pattern: /^(.+?)\/blobs\/(.+)$/, groups: ['name', 'digest'] },
];

/**
 * Upload ids are Berth's own (random UUIDs): anything else names no upload,
 * whatever the session store would make of it.
 */
const UPLOAD_ID_GRAMMAR = /^[A-Za-z0-9-]{1,64}$/;

export function isValidUploadId(id: string): boolean {
  return UPLOAD_ID_GRAMMAR.test(id);
}

/**
 * Matches the part of a path after `/v2/`: the first route whose repository
 * name is valid, else the first route that matched at all (its invalid name
 * is then refused as NAME_INVALID).
 */
export function matchRoute(path: string): RouteMatch | null {
  let first: RouteMatch | null = null;
  for (const { route, pattern, groups } of PATTERNS) {
    const m = pattern.exec(path);
    if (!m) continue;
    const match: RouteMatch = { route };
    groups.forEach((key, i) => {
      (match as unknown as Record<string, string | undefined>)[key] = m[i + 1];
    });
    if (match.name === undefined || isValidName(match.name)) return match;
    first ??= match;
  }
  return first;
}

/** Which action each method needs on each route. */
export const ROUTE_ACTIONS: Readonly<Record<RouteName, Readonly<Record<string, RouteAction>>>> = {
  base: { GET: 'none', HEAD: 'none' },
  catalog: { GET: 'catalog', HEAD: 'catalog' },
  tags: { GET: 'pull', HEAD: 'pull' },
  manifest: { GET: 'pull', HEAD: 'pull', PUT: 'push', DELETE: 'delete' },
  uploads: { POST: 'push' },
  upload: { GET: 'push', PATCH: 'push', PUT: 'push', DELETE: 'push' },
  blob: { GET: 'pull', HEAD: 'pull', DELETE: 'delete' },
  referrers: { GET: 'pull', HEAD: 'pull' },
};

export const locations = {
  blob: (name: string, digest: string) => `/v2/${name}/blobs/${digest}`,
  upload: (name: string, uploadId: string) => `/v2/${name}/blobs/uploads/${uploadId}`,
  manifest: (name: string, reference: string) => `/v2/${name}/manifests/${reference}`,
  tags: (name: string) => `/v2/${name}/tags/list`,
  catalog: () => '/v2/_catalog',
};

/**
 * Where an upload stands, as the spec tells a client after each chunk and on
 * a 416 it must resume from: its URL, its id, and the bytes received
 * (`Range: 0-<last>`; `0-0` before the first byte, as Distribution answers).
 */
export function uploadProgressHeaders(name: string, uploadId: string, offset: number): Record<string, string> {
  return {
    Location: locations.upload(name, uploadId),
    'Docker-Upload-UUID': uploadId,
    Range: `0-${Math.max(offset - 1, 0)}`,
  };
}
