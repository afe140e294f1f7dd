import type { PackageDecision } from '../auth/authorizer';
import type { PackageAction, Principal } from '../auth/principal';
import { ProxyPushRefused } from './proxy-errors';
import type { ProxyRoutes } from './proxy-routes';

/**
 * Who may do what under a proxy prefix, before the permission model is asked (no package record
 * exists there): pull as the proxy's `access` says; delete (evicting cached content) for admins only;
 * push never. Undefined for names outside every prefix.
 */
export function proxyDecision(routes: ProxyRoutes) {
  return (principal: Principal, name: string): PackageDecision | undefined => {
    const route = routes.match(name);
    if (!route) return undefined;
    const actions = new Set<PackageAction>();
    if (route.upstream.access === 'anonymous' || principal.kind !== 'anonymous') actions.add('pull');
    if (principal.kind === 'user' && principal.isAdmin) actions.add('delete');
    return { actions, create: null };
  };
}

/** Refuses every write but a delete under a proxy prefix, with one clear error, before authorization. */
export function refuseProxyWrites(routes: ProxyRoutes) {
  return (method: string, name: string | undefined): void => {
    if (name === undefined || method === 'GET' || method === 'HEAD' || method === 'DELETE') return;
    const route = routes.match(name);
    if (route) {
      throw new ProxyPushRefused(
        `${name} is a pull-through cache of ${route.upstream.url} (prefix ${route.upstream.prefix}): push to the upstream instead`,
      );
    }
  };
}
