import { DomainError } from '../domain-error';

/** A push (or an upload) into a pull-through cache's prefix: its content comes from the upstream only. */
export class ProxyPushRefused extends DomainError {}

/**
 * The upstream could not answer (unreachable, timed out, 5xx, 429, or refused Berth's credentials) and
 * nothing cached could stand in for it.
 */
export class UpstreamUnavailable extends DomainError {}
