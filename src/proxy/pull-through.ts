import type { RegistryEvents } from '../events/registry-events';
import type { Logger } from '../log';
import type { MetadataIndex } from '../metadata/metadata-index';
import type { Database } from '../persistence/database';
import type { TagPolicy } from '../registry/manifest-service';
import type { StorageQuota } from '../registry/storage-quota';
import type { UploadService } from '../registry/upload-service';
import { refuseProxyWrites } from './proxy-access';
import type { ProxyMetrics } from './proxy-metrics';
import type { ProxyRoutes } from './proxy-routes';
import { PullThroughBlobs } from './pull-through-blobs';
import { PullThroughManifests } from './pull-through-manifests';
import { SqlFetchLeases } from './sql/sql-fetch-leases';
import { UpstreamClients } from './upstream-clients';
import type { FetchFunction } from './upstream-client';

export interface PullThroughDependencies {
  routes: ProxyRoutes;
  database: Database;
  index: MetadataIndex;
  uploads: UploadService;
  events: RegistryEvents;
  sparseAllowed: (repository: string) => boolean;
  /** Immutable tags, as the registry's own manifests apply them (a cache writes through its own writer). */
  tagPolicy: TagPolicy;
  /** Quotas, as the registry's own manifests apply them (src/quotas; the caches' prefixes are exempt). */
  quota?: StorageQuota;
  metrics: ProxyMetrics;
  log: Logger;
  fetch?: FetchFunction;
}

/** The pull-through caches' parts, for the composition root to wire: manifests, blobs, and the write refusal. */
export function buildPullThrough(deps: PullThroughDependencies) {
  const clients = new UpstreamClients(deps.fetch);
  const { routes, metrics, log } = deps;
  return {
    manifests: new PullThroughManifests(deps.index, deps.events, deps.sparseAllowed, deps.tagPolicy, {
      routes,
      clients,
      metrics,
      log,
      quota: deps.quota,
    }),
    blobs: new PullThroughBlobs({
      routes,
      clients,
      uploads: deps.uploads,
      index: deps.index,
      leases: new SqlFetchLeases(deps.database),
      metrics,
      log,
    }),
    refuseWrite: refuseProxyWrites(routes),
  };
}
