import type { Config } from '../config';

/** One configured upstream, as the proxy uses it. */
export type ProxyUpstream = Config['proxies'][number];

/** Where a repository name under a proxy prefix leads: the upstream and the repository there. */
export interface ProxyRoute {
  upstream: ProxyUpstream;
  /** `<path>` of `<prefix>/<path>`: the repository's name on the upstream. */
  remoteName: string;
}

/** Maps repository names to their upstream by the first path component. */
export class ProxyRoutes {
  private readonly byPrefix: ReadonlyMap<string, ProxyUpstream>;

  constructor(upstreams: readonly ProxyUpstream[]) {
    this.byPrefix = new Map(upstreams.map((u) => [u.prefix, u]));
  }

  get empty(): boolean {
    return this.byPrefix.size === 0;
  }

  /** The route of `<prefix>/<path>`; null for any other name, and for the bare prefix (no upstream repository). */
  match(name: string): ProxyRoute | null {
    const slash = name.indexOf('/');
    if (slash <= 0) return null;
    const upstream = this.byPrefix.get(name.slice(0, slash));
    return upstream ? { upstream, remoteName: name.slice(slash + 1) } : null;
  }
}
