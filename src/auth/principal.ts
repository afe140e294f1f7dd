/** The actions a token can grant on a package (an OCI repository). */
export type PackageAction = 'pull' | 'push' | 'delete';

export const ALL_ACTIONS: ReadonlySet<PackageAction> = new Set(['pull', 'push', 'delete']);

/**
 * PAT scopes, and the package actions each one allows. GitHub's hook scopes allow none: they let a token manage an
 * organisation's or a repository's webhooks (as scripts written for GitHub's API do), nothing else.
 */
export const TOKEN_SCOPES = {
  'read:packages': ['pull'],
  'write:packages': ['pull', 'push'],
  'delete:packages': ['pull', 'delete'],
  'admin:org_hook': [],
  'admin:repo_hook': [],
} as const satisfies Record<string, readonly PackageAction[]>;
export type TokenScope = keyof typeof TOKEN_SCOPES;

/** The scopes that grant a management right instead of package actions. */
export const GRANT_SCOPES = ['admin:org_hook', 'admin:repo_hook'] as const satisfies readonly TokenScope[];
export type GrantScope = (typeof GRANT_SCOPES)[number];

export function isGrantScope(scope: string): scope is GrantScope {
  return (GRANT_SCOPES as readonly string[]).includes(scope);
}

export function grantsFromScopes(scopes: readonly string[]): Set<GrantScope> {
  return new Set(GRANT_SCOPES.filter((g) => scopes.includes(g)));
}

export function isTokenScope(s: string): s is TokenScope {
  return s in TOKEN_SCOPES;
}

/** How the caller proved who they are; kept in JWTs so revocation reaches tokens already issued. */
export type Credential =
  | { type: 'password' }
  | { type: 'session' }
  | { type: 'pat'; tokenId: number }
  | { type: 'ci'; tokenId: number }
  | { type: 'refresh'; refreshId: number; tokenId: number | null };

export type Principal =
  | { kind: 'anonymous' }
  | {
      kind: 'user';
      userId: number;
      name: string;
      isAdmin: boolean;
      credential: Credential;
      /** Actions the credential allows at most (a PAT's scopes); null means all. */
      allowed: ReadonlySet<PackageAction> | null;
      /** The management rights a token's scopes grant (hooks); read only when `allowed` is not null. */
      grants?: ReadonlySet<GrantScope>;
    }
  | {
      kind: 'ci';
      tokenId: number;
      /** The user who minted the token, for audit. */
      userId: number;
      name: string;
      /** The one source repository whose packages the token may read and write. */
      repositoryId: number;
      repositoryOwnerId: number;
    };

export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous' });

export function actionsFromScopes(scopes: readonly string[]): Set<PackageAction> {
  const actions = new Set<PackageAction>();
  for (const s of scopes) if (isTokenScope(s)) for (const a of TOKEN_SCOPES[s]) actions.add(a);
  return actions;
}

export function principalName(p: Principal): string {
  return p.kind === 'anonymous' ? '' : p.name;
}
