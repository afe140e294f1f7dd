/** What the pull-through cache counts for /metrics. */
export interface ProxyMetrics {
  /** A pull through a proxy prefix served from what Berth holds (a fresh, revalidated or stale tag; a digest). */
  hit(kind: 'manifest' | 'blob'): void;
  /** A pull through a proxy prefix that had to fetch from the upstream. */
  miss(kind: 'manifest' | 'blob'): void;
  /** Bytes read from upstreams (manifests and blobs). */
  fetched(bytes: number): void;
}
