import type { Logger } from '../log';
import type { MetadataIndex } from '../metadata/metadata-index';
import { digestOf, parseDigest } from '../oci/digest';
import { MANIFEST_MEDIA_TYPES } from '../oci/media-types';
import { MAX_MANIFEST_BYTES } from '../oci/manifest';
import type { RegistryEvents } from '../events/registry-events';
import { ManifestUnknown } from '../registry/errors';
import { ManifestService, parseReference, type TagPolicy } from '../registry/manifest-service';
import type { ManifestRecord, StoredManifest } from '../metadata/metadata-index';
import { refuseProxyWrites } from './proxy-access';
import { UpstreamUnavailable } from './proxy-errors';
import type { ProxyMetrics } from './proxy-metrics';
import type { StorageQuota } from '../registry/storage-quota';
import type { ProxyRoute, ProxyRoutes } from './proxy-routes';
import { discard, isUnavailableStatus } from './upstream-client';
import type { UpstreamClients } from './upstream-clients';

/** Every manifest type Berth stores, so the upstream answers a tag with what it has (an index, typically). */
const ACCEPT = [...MANIFEST_MEDIA_TYPES].join(', ');

export interface PullThroughManifestsOptions {
  routes: ProxyRoutes;
  clients: UpstreamClients;
  metrics: ProxyMetrics;
  log: Logger;
  now?: () => number;
  /** Quotas on the registry's own repositories (a cache's writer has none). */
  quota?: StorageQuota;
}

/**
 * Manifests, as ManifestService serves them, with repositories under a proxy prefix filled from their
 * upstream first: a digest is fetched once and kept for good (its bytes cannot change); a tag is
 * revalidated with a HEAD once `tagTtlSeconds` have passed since it was last checked, and served stale
 * when the upstream cannot answer. What is fetched is stored in the ordinary index (sparse: its blobs
 * come when pulled), through a writer that emits no push events: a cache fill is not a push.
 */
export class PullThroughManifests extends ManifestService {
  /** When each cached `<repository>:<tag>` was last confirmed upstream, in this process. */
  private readonly checked = new Map<string, number>();
  /** One upstream fetch per repository and reference at a time in this process. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly writer: ManifestService;
  private readonly now: () => number;
  private readonly refuseWrite: (method: string, name: string) => void;

  constructor(
    private readonly store: MetadataIndex,
    events: RegistryEvents | undefined,
    sparseAllowed: (repository: string) => boolean,
    tagPolicy: TagPolicy,
    private readonly options: PullThroughManifestsOptions,
  ) {
    super(store, events, sparseAllowed, tagPolicy, options.quota);
    this.writer = new ManifestService(store, undefined, () => true);
    this.now = options.now ?? Date.now;
    this.refuseWrite = refuseProxyWrites(options.routes);
  }

  override async get(repository: string, reference: string): Promise<StoredManifest> {
    return this.filled(repository, reference, () => super.get(repository, reference));
  }

  override async stat(repository: string, reference: string): Promise<ManifestRecord> {
    return this.filled(repository, reference, () => super.stat(repository, reference));
  }

  /**
   * `read` after a fill. A tag confirmed within its TTL is read without looking it up first (a pull by tag
   * costs what a local one does); if it is gone locally after all (deleted), it is forgotten and filled again.
   */
  private async filled<T>(repository: string, reference: string, read: () => Promise<T>): Promise<T> {
    await this.fill(repository, reference);
    try {
      return await read();
    } catch (err) {
      if (!(err instanceof ManifestUnknown) || !this.checked.delete(`${repository}:${reference}`)) throw err;
      await this.fill(repository, reference);
      return read();
    }
  }

  /** Nothing is pushed into a cache, by the registry API, an archive import or a promotion alike. */
  override async put(...args: Parameters<ManifestService['put']>): ReturnType<ManifestService['put']> {
    this.refuseWrite('PUT', args[0]);
    return super.put(...args);
  }

  /** Makes the local index current for a pull of `reference`, when the repository is a proxy's. */
  private async fill(repository: string, reference: string): Promise<void> {
    const route = this.options.routes.match(repository);
    if (!route) return;
    const key = `${repository}:${reference}`;
    const running = this.inFlight.get(key);
    if (running) return running;
    const work = this.refresh(route, repository, reference).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, work);
    return work;
  }

  private async refresh(route: ProxyRoute, repository: string, reference: string): Promise<void> {
    const ref = parseReference(reference);
    const { metrics } = this.options;
    if ('digest' in ref) {
      if (await this.store.statManifest(repository, ref.digest)) return metrics.hit('manifest');
      metrics.miss('manifest');
      await this.fetchAndStore(route, repository, ref.digest);
      return;
    }
    const key = `${repository}:${ref.tag}`;
    const checkedAt = this.checked.get(key);
    // Only a tag held locally is ever marked checked (see `filled` for one deleted since).
    if (checkedAt !== undefined && this.now() - checkedAt < route.upstream.tagTtlSeconds * 1000) return metrics.hit('manifest');
    const local = await this.store.resolveTag(repository, ref.tag);
    let upstreamDigest: string | null;
    try {
      upstreamDigest = await this.headTag(route, ref.tag);
    } catch (err) {
      if (!(err instanceof UpstreamUnavailable) || local === null) throw err;
      // Served stale: the next revalidation waits another TTL rather than every pull waiting on a dead upstream.
      this.options.log.warn(
        { repository, tag: ref.tag, upstream: route.upstream.url, detail: err.detail },
        'upstream unavailable: serving the cached tag',
      );
      this.checked.set(key, this.now());
      return metrics.hit('manifest');
    }
    if (upstreamDigest !== null && upstreamDigest === local) {
      this.checked.set(key, this.now());
      return metrics.hit('manifest');
    }
    metrics.miss('manifest');
    const known = upstreamDigest === null ? null : await this.store.getManifest(repository, upstreamDigest);
    if (known) await this.writer.put(repository, ref.tag, known.content, known.mediaType);
    else await this.fetchAndStore(route, repository, ref.tag);
    this.checked.set(key, this.now());
  }

  /** The digest the upstream's tag names now (null when its HEAD does not say), or MANIFEST_UNKNOWN. */
  private async headTag(route: ProxyRoute, tag: string): Promise<string | null> {
    const res = await this.client(route).request('HEAD', route.remoteName, `manifests/${tag}`, { Accept: ACCEPT });
    await discard(res);
    if (res.status === 404) throw new ManifestUnknown({ tag });
    if (!res.ok) throw unavailable(route, res.status);
    const digest = res.headers.get('docker-content-digest');
    return digest && /^sha256:[a-f0-9]{64}$/.test(digest) ? digest : null;
  }

  /**
   * GETs `reference` upstream and stores it, tagged when a tag. By digest, the bytes must have that digest;
   * by tag they are whatever the tag names now (it may have moved since the HEAD), stored under their own digest.
   */
  private async fetchAndStore(route: ProxyRoute, repository: string, reference: string): Promise<void> {
    const byDigest = reference.includes(':');
    const res = await this.client(route).request('GET', route.remoteName, `manifests/${reference}`, { Accept: ACCEPT });
    if (res.status === 404) {
      await discard(res);
      throw new ManifestUnknown(byDigest ? { digest: reference } : { tag: reference });
    }
    if (!res.ok) {
      await discard(res);
      throw unavailable(route, res.status);
    }
    const length = Number(res.headers.get('content-length') ?? '0');
    if (length > MAX_MANIFEST_BYTES) {
      await discard(res);
      throw new UpstreamUnavailable({ upstream: route.upstream.url, reason: `the manifest is larger than ${MAX_MANIFEST_BYTES} bytes` });
    }
    const content = Buffer.from(await res.arrayBuffer());
    this.options.metrics.fetched(content.length);
    if (byDigest) {
      const actual = digestOf(content, parseDigest(reference).algorithm);
      if (actual !== reference)
        throw new UpstreamUnavailable({ upstream: route.upstream.url, reason: `the upstream sent ${actual} for ${reference}` });
    }
    const contentType = res.headers.get('content-type')?.split(';')[0]?.trim() || undefined;
    await this.writer.put(repository, reference, content, contentType);
  }

  private client(route: ProxyRoute) {
    return this.options.clients.for(route.upstream);
  }
}

function unavailable(route: ProxyRoute, status: number): UpstreamUnavailable {
  return new UpstreamUnavailable({
    upstream: route.upstream.url,
    status,
    reason: isUnavailableStatus(status) ? 'upstream refused or failed' : 'unexpected answer',
  });
}
