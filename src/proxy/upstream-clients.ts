import { UpstreamClient, type FetchFunction } from './upstream-client';
import type { ProxyUpstream } from './proxy-routes';

/** One client per configured upstream, so tokens are cached per upstream and shared by every pull. */
export class UpstreamClients {
  private readonly clients = new Map<string, UpstreamClient>();

  constructor(private readonly fetchImpl: FetchFunction = fetch) {}

  for(upstream: ProxyUpstream): UpstreamClient {
    let client = this.clients.get(upstream.prefix);
    if (!client) {
      client = new UpstreamClient(upstream, this.fetchImpl);
      this.clients.set(upstream.prefix, client);
    }
    return client;
  }
}
