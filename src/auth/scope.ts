import { isValidName } from '../oci/reference';
import type { PackageAction } from './principal';

/** One requested or granted resource access, as Docker token auth writes it. */
export interface ResourceAccess {
  type: 'repository' | 'registry';
  name: string;
  actions: string[];
}

const PACKAGE_ACTIONS: ReadonlySet<string> = new Set(['pull', 'push', 'delete', '*']);

/**
 * Parses `scope` parameters: `repository:<name>:<action>[,<action>]` and
 * `registry:catalog:*`. A resource type may carry a class
 * (`repository(plugin):…`), which is ignored. Unknown or malformed scopes
 * are dropped: the token then simply grants nothing for them.
 */
export function parseScopes(values: string[]): ResourceAccess[] {
  const out: ResourceAccess[] = [];
  for (const value of values.flatMap((v) => v.split(' '))) {
    if (!value) continue;
    const first = value.indexOf(':');
    const last = value.lastIndexOf(':');
    if (first < 0 || last === first) continue;
    const type = value.slice(0, first).replace(/\(.*\)$/, '');
    const name = value.slice(first + 1, last);
    const actions = value
      .slice(last + 1)
      .split(',')
      .filter(Boolean);
    if (type === 'repository' && isValidName(name)) {
      out.push({ type, name, actions: actions.filter((a) => PACKAGE_ACTIONS.has(a)) });
    } else if (type === 'registry' && name === 'catalog') {
      out.push({ type, name, actions: actions.filter((a) => a === '*') });
    }
  }
  return out;
}

/** Expands `*` to every package action, so grants are explicit. */
export function requestedActions(access: ResourceAccess): Set<PackageAction> {
  const set = new Set<PackageAction>();
  for (const a of access.actions) {
    if (a === '*') ['pull', 'push', 'delete'].forEach((x) => set.add(x as PackageAction));
    else set.add(a as PackageAction);
  }
  return set;
}

export function formatScope(name: string, actions: Iterable<string>): string {
  return `repository:${name}:${[...actions].join(',')}`;
}
