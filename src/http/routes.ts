/**
 * The distribution-spec's endpoints (spec.md, "Endpoints"), named once. A
 * repository name may contain slashes, so routes are matched here rather
 * than by Express's path patterns, and every Location header is built from
 * the same table by `locations`.
 */
export type RouteName =
  | 'base'
  | 'catalog'
  | 'tags'
  | 'manifest'
  | 'uploads'
  | 'upload'
  | 'blob'
  | 'referrers';

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
];

/** Matches the part of a path after `/v2/`. */
export function matchRoute(path: string): RouteMatch | null {
  for (const { route, pattern, groups } of PATTERNS) {
    const m = pattern.exec(path);
    if (!m) continue;
    const match: RouteMatch = { route };
    groups.forEach((key, i) => {
      (match as unknown as Record<string, string | undefined>)[key] = m[i + 1];
    });
    return match;
  }
  return null;
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
