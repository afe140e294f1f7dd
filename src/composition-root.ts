import path from 'node:path';
import { ConfigError, followsStagedHashes, fsStorageRoot, type Config } from './config';
import type { Logger } from './log';
import { createHttpApp, type HttpApp } from './http/app';
import cluster from 'node:cluster';
import { createHttpMetrics, type HttpMetrics } from './http/metrics';
import { ClusterHashFollowerClient } from './cluster/hash-follower-relay';
import type { StagedHashFollower } from './registry/staged-hash-follower';
import { METADATA_MIGRATIONS } from './metadata/sql/metadata-migrations';
import { SqlMetadataIndex } from './metadata/sql/sql-metadata-index';
import { SqlUploadSessionStore } from './sessions/sql/sql-upload-session-store';
import { UPLOAD_SESSION_MIGRATIONS } from './sessions/sql/upload-session-migrations';
import { FsBlobStore } from './storage/fs/fs-blob-store';
import { BlobService } from './registry/blob-service';
import { ListingService } from './registry/listing-service';
import { globListMatcher } from './registry/name-glob';
import { ArchiveExporter } from './transfer/archive-export';
import { ArchiveImporter } from './transfer/archive-import';
import { Promotion } from './transfer/promotion';
import { ManifestService } from './registry/manifest-service';
import { ReferrerService } from './registry/referrer-service';
import { UploadService } from './registry/upload-service';
import type { BlobStore } from './storage/blob-store';
import type { UploadSessionStore } from './sessions/upload-session-store';

import { randomBytes } from 'node:crypto';
import { AccessControl } from './auth/access-control';
import { Authenticator } from './auth/authenticator';
import { LoginThrottle } from './auth/login-throttle';
import { SqlLoginFailureStore } from './auth/sql/sql-login-failure-store';
import { LOGIN_FAILURE_MIGRATIONS } from './auth/sql/login-failure-migrations';
import { connectDatabase } from './persistence/connect-database';
import type { Database as StoreDatabase } from './persistence/database';
import type { StoreMigrations } from './persistence/migration';
import { migrate } from './persistence/migration-runner';
import { NameTakenError } from './persistence/unique-violation';
import { Authorizer } from './auth/authorizer';
import { hashPassword } from './auth/secrets';
import { SigningKeys } from './auth/signing-keys';
import { SealedCatalogCursors } from './auth/sealed-cursors';
import { IDENTITY_MIGRATIONS } from './auth/sql/identity-migrations';
import { sqlIdentityStores } from './auth/sql/sql-identity-stores';
import type { AccountStore } from './auth/stores/account-store';
import { TokenService } from './auth/token-service';
import { DEFAULT_CI_TOKEN_TTL_MINUTES, IdentityService } from './auth/identity-service';
import { PackageLinker } from './auth/package-linker';
import { PackageVersionService } from './auth/management/package-version-service';
import { RegistryEvents } from './events/registry-events';
import type { Actor } from './auth/management/actor';
import { AUDIT_MIGRATIONS } from './audit/sql/audit-migrations';
import { SqlAuditStore } from './audit/sql/sql-audit-store';
import { StoredAuditLog } from './audit/stored-audit-log';
import { AuditService } from './audit/audit-service';
import { auditRegistryEvents } from './audit/registry-audit';
import { DOWNLOAD_MIGRATIONS } from './downloads/sql/download-migrations';
import { SqlDownloadStore } from './downloads/sql/sql-download-store';
import { DownloadCounter } from './downloads/download-counter';
import { DownloadService } from './downloads/download-service';
import { utcDay } from './downloads/download-store';
import { pruneInBatches, schedulePrune } from './persistence/batched-prune';
import { WEBHOOK_MIGRATIONS } from './webhooks/sql/webhook-migrations';
import { SqlHookStore } from './webhooks/sql/sql-hook-store';
import { HookService } from './webhooks/hook-service';
import { AddressGuard } from './outbound/address-guard';
import { DEFAULT_BACKOFF_MS, DeliveryWorker, type DeliveryWorkerOptions } from './webhooks/delivery-worker';
import { ChangeRelay } from './webhooks/change-relay';
import type { AuditEvent } from './audit/audit-log';
import { observedAuditLog } from './audit/observed-audit-log';
import type { IdentityStores } from './auth/stores/identity-stores';
import { SEARCH_MIGRATIONS } from './search/sql/search-migrations';
import { SqlSearchIndex } from './search/sql/sql-search-index';
import { PackageDocuments } from './search/package-documents';
import { PackageIndexer } from './search/package-indexer';
import { IdentityPackageCatalog } from './search/identity-package-catalog';
import { OpenPackageCatalog } from './search/open-package-catalog';
import { IdentitySearchAccess } from './search/identity-search-access';
import { OPEN_ACCESS, SearchService } from './search/search-service';
import { ImageReader } from './web/image-reader';
import { PackagePages } from './web/package-pages';
import { OwnerPages } from './web/owner-pages';
import { WebViewers } from './web/web-viewer';
import type { WebDependencies } from './web/web-router';
import type { MetadataIndex } from './metadata/metadata-index';
import type { Readable } from 'node:stream';
import { GarbageCollector } from './gc/collector';
import { CollectionService } from './gc/collection-service';
import { scheduleCollection } from './gc/collection-schedule';
import { SqlCollectorLease } from './gc/sql/sql-collector-lease';
import { GC_MIGRATIONS } from './gc/sql/gc-migrations';
import { ImmutableTagPolicy } from './immutability/immutable-tag-policy';
import { ImmutableTagService } from './immutability/immutable-tag-service';
import { SqlImmutableTagRuleStore } from './immutability/sql/sql-immutable-tag-rule-store';
import { IMMUTABILITY_MIGRATIONS } from './immutability/sql/immutability-migrations';
import { QUOTA_MIGRATIONS } from './quotas/sql/quota-migrations';
import { SqlQuotaLimitStore } from './quotas/sql/sql-quota-limit-store';
import { QuotaPolicy } from './quotas/quota-policy';
import { QuotaService } from './quotas/quota-service';
import { ProxyRoutes } from './proxy/proxy-routes';
import { proxyDecision } from './proxy/proxy-access';
import { buildPullThrough } from './proxy/pull-through';
import { PROXY_MIGRATIONS } from './proxy/sql/proxy-migrations';
import { RETENTION_MIGRATIONS } from './retention/sql/retention-migrations';
import { SqlRetentionPolicyStore } from './retention/sql/sql-retention-policy-store';
import { RetentionRunner } from './retention/retention-runner';
import { RetentionService } from './retention/retention-service';
import { scheduleRetention } from './retention/retention-schedule';
import { SqlNamedLease } from './persistence/sql-named-lease';

export interface Registry {
  app: HttpApp;
  uploads: UploadService;
  /** Manifest downloads counted in this process and not yet written; `flush()` writes them now. */
  downloads: DownloadCounter;
  /** Image archive import and export, for the CLI as for the API. */
  transfer: { importer: ArchiveImporter; exporter: ArchiveExporter; promotion: Promotion };
  /** Keeps the package search index current; `idle()` waits for what is queued, `reconcile()` heals it. */
  search: PackageIndexer;
  /** Garbage collection (src/gc), for the CLI and tests; scheduled every BERTH_GC_INTERVAL_HOURS. */
  collector: GarbageCollector;
  /** Retention runs (src/retention), for the CLI; scheduled every BERTH_RETENTION_INTERVAL_HOURS. None without auth. */
  retention?: RetentionRunner;
  /** Look for a background job's work now (the cluster's background worker, told by a serving worker). */
  kick(job: BackgroundJob): void;
  close(): Promise<void>;
}

/** Work no request waits for, which a cluster's serving workers leave to its background worker. */
export type BackgroundJob = 'webhook-relay' | 'webhook-deliveries';

/**
 * The composition root: builds stores and services from configuration and
 * wires them into the HTTP app. Nothing else constructs drivers.
 */
export interface RegistryOptions {
  /** The metrics /metrics serves; a fresh set when not given. */
  metrics?: HttpMetrics;
  /** The webhook delivery worker's timings (tests shorten the backoff). */
  webhooks?: Partial<DeliveryWorkerOptions>;
  /**
   * The clock version deletes and restores are stamped and judged by (tests of the restore window move it; moving
   * the process's own Date would move the S3 client's signing clock too, which then corrects itself by the skew).
   */
  versionClock?: () => number;
  /**
   * Where the background jobs run: in this process unless `elsewhere` is given, which is then told of their work
   * instead (a cluster's serving workers, whose background worker runs them: src/cluster/background-worker.ts).
   */
  background?: { elsewhere: (job: BackgroundJob) => void };
}

export async function createRegistry(config: Config, log: Logger, options: RegistryOptions = {}): Promise<Registry> {
  // Every store on PostgreSQL when DATABASE_URL is set, else on the SQLite file in the data directory.
  const database = await connectDatabase({
    url: config.database?.url,
    sqliteFile: path.join(config.dataDir, 'berth.db'),
    onIdleError: (err) => log.warn({ err }, 'a pooled database connection failed'),
    checkpointInBackground: true,
    onBackgroundError: (err) => log.warn({ err }, 'the SQLite checkpoint thread stopped; commits checkpoint again'),
  });
  // Every store's tables, the session store's too when Redis holds the sessions: one schema per deployment.
  await migrate(database, STORE_MIGRATIONS);
  const storage = await openBlobStore(config);
  const blobStore = storage.store;
  const sessionStore = await openSessionStore(config, database);
  const sessions = sessionStore.store;
  const index = new SqlMetadataIndex(database);
  const metrics = options.metrics ?? createHttpMetrics();
  // Quotas (src/quotas): the registry asks the policy for the limits, the index enforces them where it links.
  const quotaLimits = new SqlQuotaLimitStore(database);
  const proxyRoutes = new ProxyRoutes(config.proxies);
  const quota = new QuotaPolicy(
    quotaLimits,
    { maxBytes: config.quotas.bytes, maxVersionsPerPackage: config.quotas.versionsPerPackage },
    { exempt: (repository) => proxyRoutes.match(repository) !== null },
  );

  const uploads = new UploadService(blobStore, sessions, index, log, {
    quota,
    sessionTtlMs: config.uploads.sessionTtlSeconds * 1000,
    // Locks in Redis or PostgreSQL only expire (no dead-holder check across hosts): a short TTL
    // (refreshed while a chunk streams) frees a killed replica's uploads quickly.
    lockTtlMs: config.redis || database.dialect === 'postgres' ? 15_000 : undefined,
    // Hash state leaves the process where another replica may continue the upload (replicas share
    // Redis) or where staged bytes cannot be read back (S3 parts); else a chunk landing elsewhere
    // would re-read the whole upload. Cluster workers sharing the staging disk leave hashing to the
    // primary's follower (native, each byte read once); a single process keeps its native hasher.
    hashing: config.redis || config.s3 ? 'session' : 'process',
    follower: followsStagedHashes(config) && cluster.isWorker ? followerClient(metrics) : undefined,
    onRehash: (bytes) => metrics.countRehashedBytes(bytes),
  });
  const blobs = new BlobService(blobStore, index, quota);
  const immutableTagRules = new SqlImmutableTagRuleStore(database);
  const tagPolicy = new ImmutableTagPolicy(immutableTagRules);
  const collector = buildCollector(database, index, blobStore, config, log, metrics);
  const collecting = scheduleCollection(collector, config.gc.intervalHours, log);
  const events = new RegistryEvents(log);
  const downloadStore = new SqlDownloadStore(database);
  const downloads = new DownloadCounter(downloadStore, log, {
    flushIntervalMs: config.downloads.flushIntervalSeconds * 1000,
    // ~200 bytes a key: at most ~20 MiB held while the database is unreachable.
    maxPendingKeys: 100_000,
  });
  if (config.downloads.counting) events.on('manifest.pulled', (event) => downloads.count(event.repository, event.digest));
  downloads.start();
  const pruning = [
    schedulePrune(
      'daily download counts',
      PRUNE_INTERVAL_MS,
      () => pruneInBatches((limit) => downloadStore.pruneDaily(utcDay(Date.now()) - config.downloads.retentionDays, limit)),
      log,
    ),
  ];
  // Management changes reach the search index through the audit log, once the indexer exists (below).
  const late: { indexer?: PackageIndexer } = {};
  const built =
    config.auth.mode === 'token'
      ? await buildAuth(database, config, log, downloadStore, (event) => late.indexer?.onAudit(event), proxyRoutes)
      : undefined;
  // GitHub's packages API reads versions from the metadata index and packages from the identity model.
  const hookStore = new SqlHookStore(database);
  const addressGuard = webhookAddressGuard(config);
  const deliveries = new DeliveryWorker(hookStore, addressGuard, log, {
    pollIntervalMs: 1_000,
    timeoutMs: 10_000,
    backoffMs: DEFAULT_BACKOFF_MS,
    batchSize: 10,
    version: berthVersion(),
    ...options.webhooks,
  });
  const elsewhere = options.background?.elsewhere;
  const kickDeliveries = elsewhere ? () => elsewhere('webhook-deliveries') : () => deliveries.kick();
  if (!elsewhere) deliveries.start();
  pruning.push(
    schedulePrune(
      'webhook delivery log entries',
      PRUNE_INTERVAL_MS,
      () => pruneInBatches((limit) => hookStore.pruneLog(Date.now() - WEBHOOK_LOG_RETENTION_MS, limit)),
      log,
    ),
  );
  // The index's change journal becomes deliveries in the background; a push only kicks the relay.
  const relay = new ChangeRelay(index, built?.identities, hookStore, log, {
    pollIntervalMs: options.webhooks?.pollIntervalMs ?? 1_000,
    web: (config.publicUrl ?? `http://${config.addr}`).replace(/\/$/, ''),
    openBlob: (digest) => blobStore.openRead(digest),
    onQueued: () => deliveries.kick(),
  });
  const kickRelay = elsewhere ? () => elsewhere('webhook-relay') : () => relay.kick();
  events.on('manifest.pushed', kickRelay);
  // A promotion changes nothing in the package store, yet is a package change hooks hear of (berth_package `promoted`).
  const packages = built?.identities.packages;
  if (packages) {
    events.on('package.promoted', async (e) => {
      await packages.journalPromotion(e.repository, e.digest, e.target);
      kickRelay();
    });
  }
  if (!elsewhere) relay.start();
  const auth = built && {
    ...built,
    packageVersions: new PackageVersionService(
      built.identities,
      built.authorizer,
      index,
      built.auditLog,
      config.versions,
      options.versionClock,
      tagPolicy,
    ),
    hooks: new HookService(hookStore, built.identities, built.authorizer, addressGuard, { onQueued: kickDeliveries }),
    gc: new CollectionService(collector),
    immutableTags: new ImmutableTagService(immutableTagRules, built.identities.accounts, tagPolicy),
    quotas: new QuotaService(quotaLimits, quota, index, built.identities.accounts),
  };
  if (auth) {
    const packageVersions = auth.packageVersions;
    events.on('manifest.pushed', (event) => packageVersions.onManifestPushed(event));
    auditRegistryEvents(events, auth.auditLog);
    const audit = auth.audit;
    pruning.push(schedulePrune('audit log entries', PRUNE_INTERVAL_MS, () => audit.prune(), log));
    const linker = new PackageLinker(
      auth.identities,
      auth.authorizer,
      { open: (digest) => blobStore.openRead(digest) },
      log,
      config.publicUrl,
    );
    events.on('manifest.pushed', (event) => linker.onManifestPushed(event));
  }
  const retention = auth && buildRetention(database, auth, index, downloadStore, tagPolicy, config, log, options.versionClock);
  const retaining = scheduleRetention(retention?.runner, config.retention.intervalHours, log);
  const sparse = globListMatcher(config.manifests.sparse);
  // Pull-through caches (issue #21): manifests and blobs of their prefixes filled from the upstreams.
  const pullThrough = proxyRoutes.empty
    ? undefined
    : buildPullThrough({
        routes: proxyRoutes,
        database,
        index,
        uploads,
        events,
        sparseAllowed: sparse,
        tagPolicy,
        quota,
        metrics: {
          hit: (kind) => metrics.countProxyPull(kind, 'hit'),
          miss: (kind) => metrics.countProxyPull(kind, 'miss'),
          fetched: (bytes) => metrics.countProxyBytes(bytes),
        },
        log,
      });
  const manifests = pullThrough?.manifests ?? new ManifestService(index, events, sparse, tagPolicy, quota);
  const referrers = new ReferrerService(index);
  const transfer = {
    importer: new ArchiveImporter({ uploads, blobs, manifests }),
    exporter: new ArchiveExporter({ blobs, manifests }),
    promotion: new Promotion({ blobs, manifests, referrers, guard: promotionAddressGuard(config), events }),
  };
  const search = buildSearch(database, auth, index, blobStore, downloadStore, log);
  late.indexer = search.indexer;
  // After the linker: a push's indexing (queued, never awaited by the push) sees the link it made.
  events.on('manifest.pushed', (event) => search.indexer.schedule(event.repository));
  events.on('manifest.deleted', (event) => search.indexer.schedule(event.repository));
  // Pulled packages' download counts reach the index after the counter has written them.
  const pulled = new Set<string>();
  events.on('manifest.pulled', (event) => void pulled.add(event.repository));
  const refreshDownloads = setInterval(() => {
    const names = [...pulled];
    pulled.clear();
    void search.indexer.refreshDownloads(names);
  }, SEARCH_DOWNLOADS_INTERVAL_MS);
  refreshDownloads.unref();
  // What a crash between a commit and its indexing left out, healed in the background.
  const reconciling = search.indexer.reconcile().then(
    (done) => log.info(done, 'search index reconciled'),
    (err: unknown) => log.warn({ err }, 'search index reconcile failed'),
  );
  const app = createHttpApp({
    log,
    metrics,
    blobs,
    uploads,
    manifests,
    transfer,
    // With auth, a catalog page that stops at a name the caller may not see links on through a sealed position.
    listing: new ListingService(index, config.maxPageSize, undefined, auth && new SealedCatalogCursors(auth.keys)),
    referrers,
    auth: auth && { ...auth, retention: retention?.service },
    search: search.service,
    web: buildWeb(search.service, auth, index, (digest) => blobStore.openRead(digest)),
    pullThrough,
    readiness: [
      ...(sessionStore.ping ? [{ name: 'redis', probe: () => sessionStore.ping?.() ?? Promise.resolve() }] : []),
      { name: 'blob-storage', probe: () => (blobStore.ping ? blobStore.ping() : blobStore.stat(READINESS_DIGEST).then(() => undefined)) },
      // The configured database, which holds every store: PostgreSQL with DATABASE_URL, else the SQLite file.
      { name: 'metadata-db', probe: () => database.ping() },
    ],
  });
  return {
    app,
    uploads,
    downloads,
    transfer,
    search: search.indexer,
    collector,
    retention: retention?.runner,
    kick(job) {
      if (job === 'webhook-relay') relay.kick();
      else deliveries.kick();
    },
    async close() {
      for (const p of pruning) p.stop();
      collecting.stop();
      retaining.stop();
      clearInterval(refreshDownloads);
      await search.indexer.close();
      await reconciling;
      // Attempts in flight are logged (each bounded by its timeout); the rest stay queued for the next start.
      await relay.close();
      await deliveries.close();
      // The last pulls' counts reach the database before it closes.
      await downloads.close();
      // Chunks cut off by shutdown still save their offset and release their lock: let them.
      if (!(await uploads.settle(5_000))) log.warn('closing with upload writes still in progress');
      await uploads.close();
      await sessionStore.close();
      await index.close();
      await database.close();
      storage.close();
    },
  };
}

/** Retention policies, their runs (deleting through the packages API's delete path) and the service the API uses. */
function buildRetention(
  database: StoreDatabase,
  auth: Pick<NonNullable<Awaited<ReturnType<typeof buildAuth>>>, 'identities' | 'authorizer'> & { packageVersions: PackageVersionService },
  index: MetadataIndex,
  downloads: SqlDownloadStore,
  tagPolicy: ImmutableTagPolicy,
  config: Config,
  log: Logger,
  /** Versions' ages are judged by the clock their deletes are stamped with (RegistryOptions.versionClock). */
  clock?: () => number,
): { runner: RetentionRunner; service: RetentionService } {
  const policies = new SqlRetentionPolicyStore(database);
  const { accounts, packages } = auth.identities;
  const runner = new RetentionRunner({
    policies,
    lease: new SqlNamedLease(database, 'retention_leases', 'retention'),
    accounts,
    packages,
    index,
    downloads,
    immutable: tagPolicy,
    versions: auth.packageVersions,
    log,
    clock,
  });
  const service = new RetentionService(policies, runner, accounts, packages, auth.authorizer, {
    downloadDays: config.downloads.retentionDays,
  });
  return { runner, service };
}

/** The garbage collector over this deployment's index and storage, counting what it reclaims in `metrics`. */
export function buildCollector(
  database: StoreDatabase,
  index: SqlMetadataIndex,
  blobStore: BlobStore,
  config: Config,
  log: Logger,
  metrics?: HttpMetrics,
): GarbageCollector {
  return new GarbageCollector(index, blobStore, new SqlCollectorLease(database), log, {
    graceSeconds: config.gc.graceSeconds,
    restoreWindowDays: config.versions.restoreWindowDays,
    onCollected: (summary) => (summary.dryRun ? undefined : metrics?.countCollected(summary)),
  });
}

/** The SSRF guard over BERTH_WEBHOOK_ALLOWED_HOSTS; a malformed entry stops Berth naming the setting. */
function webhookAddressGuard(config: Config): AddressGuard {
  try {
    return new AddressGuard(config.webhooks.allowedHosts);
  } catch (err) {
    throw new ConfigError(`webhooks.allowedHosts: ${(err as Error).message}`);
  }
}

function promotionAddressGuard(config: Config): AddressGuard {
  try {
    return new AddressGuard(config.promotion.allowedHosts, undefined, {
      subject: 'the promotion target',
      setting: 'BERTH_PROMOTION_ALLOWED_HOSTS',
    });
  } catch (err) {
    throw new ConfigError(`promotion.allowedHosts: ${(err as Error).message}`);
  }
}

/** The delivery log keeps a week, as GitHub's does. */
const WEBHOOK_LOG_RETENTION_MS = 7 * 86_400_000;

/** Berth's version, for the hooks' User-Agent. */
function berthVersion(): string {
  // A require, not an import: package.json sits outside the build's rootDir.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('../package.json') as { version: string }).version;
}

/** A digest no blob has: a storage without `ping` is probed by a stat of it. */
const READINESS_DIGEST = `sha256:${'0'.repeat(64)}`;

/** Blobs on S3 when `s3` is configured, else on the filesystem under the data directory. */
function followerClient(metrics: HttpMetrics): StagedHashFollower {
  // Past this the worker re-hashes on its own: the follower lags by at most the chunks in flight.
  return new ClusterHashFollowerClient({ timeoutMs: 30_000, onDigest: (bytes) => metrics.countFollowedBytes(bytes) });
}

export async function openBlobStore(config: Config): Promise<{ store: BlobStore; close(): void }> {
  if (config.s3) {
    // Loaded only when configured: the AWS SDK and ioredis cost ~40 MiB of RSS the embedded default never needs.
    const { S3BlobStore } = await import('./storage/s3/s3-blob-store');
    const { createS3Client } = await import('./storage/s3/s3-client');
    const client = createS3Client(config.s3);
    const store = new S3BlobStore(client, { bucket: config.s3.bucket, prefix: config.s3.prefix, redirect: config.s3.redirect });
    return { store, close: () => client.destroy() };
  }
  const store = new FsBlobStore(fsStorageRoot(config));
  await store.init();
  return { store, close: () => undefined };
}

/** The stores' tables, each store's own migrations (src/persistence/migration-runner.ts). */
export const STORE_MIGRATIONS: readonly StoreMigrations[] = [
  METADATA_MIGRATIONS,
  UPLOAD_SESSION_MIGRATIONS,
  LOGIN_FAILURE_MIGRATIONS,
  ...IDENTITY_MIGRATIONS,
  DOWNLOAD_MIGRATIONS,
  AUDIT_MIGRATIONS,
  WEBHOOK_MIGRATIONS,
  SEARCH_MIGRATIONS,
  GC_MIGRATIONS,
  IMMUTABILITY_MIGRATIONS,
  PROXY_MIGRATIONS,
  RETENTION_MIGRATIONS,
  QUOTA_MIGRATIONS,
];

/** How often each process writes the download counts of the packages it served into the search index. */
const SEARCH_DOWNLOADS_INTERVAL_MS = 600_000;

/** How often each process prunes expired daily download counts and audit entries. */
const PRUNE_INTERVAL_MS = 3_600_000;

/** Upload sessions in Redis when `redis` is configured, else in the database (PostgreSQL or the SQLite file). */
export async function openSessionStore(
  config: Config,
  database: StoreDatabase,
): Promise<{ store: UploadSessionStore; close(): Promise<void>; ping?(): Promise<void> }> {
  if (config.redis) {
    const { Redis } = await import('ioredis');
    const { RedisUploadSessionStore } = await import('./sessions/redis/redis-upload-session-store');
    const redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 3 });
    await redis.connect();
    const store = new RedisUploadSessionStore(redis, {
      keyPrefix: config.redis.keyPrefix,
      sessionTtlMs: config.uploads.sessionTtlSeconds * 1000,
    });
    return {
      store,
      async close() {
        await store.close();
        await redis.quit();
      },
      async ping() {
        await redis.ping();
      },
    };
  }
  const store = new SqlUploadSessionStore(database);
  return { store, close: () => store.close() };
}

/** The identity model, token service and access control over the configured database. */
async function buildAuth(
  database: StoreDatabase,
  config: Config,
  log: Logger,
  downloadStore: SqlDownloadStore,
  onAudit: (event: AuditEvent) => void,
  proxyRoutes: ProxyRoutes,
) {
  const identities = sqlIdentityStores(database);
  await ensureAdmin(identities.accounts, config, log);
  const keys = new SigningKeys(identities.signingKeys);
  await keys.init();
  // Pull-through caches' prefixes follow their own access rule, not the package model.
  const authorizer = new Authorizer(identities, proxyDecision(proxyRoutes));
  // Failed logins are counted in the shared database, so every worker and replica throttles together.
  const failures = new SqlLoginFailureStore(database);
  const auditStore = new SqlAuditStore(database);
  const auditLog = observedAuditLog(new StoredAuditLog(auditStore, identities.accounts, log), onAudit);
  const authenticator = new Authenticator(identities, new LoginThrottle(failures), new LoginThrottle(failures, 100), auditLog);
  const management = new IdentityService(identities, authorizer, authenticator, {
    ciTokenTtlMinutes: config.auth.ciTokenTtlMinutes ?? DEFAULT_CI_TOKEN_TTL_MINUTES,
    audit: auditLog,
  });
  const tokens = new TokenService(keys, authorizer, authenticator, {
    issuer: config.auth.issuer,
    service: config.auth.service,
    ttlSeconds: config.auth.tokenTtlSeconds,
  });
  return {
    identities,
    keys,
    authorizer,
    authenticator,
    tokens,
    access: new AccessControl(authorizer, identities.packages),
    management,
    auditLog,
    audit: new AuditService(auditStore, identities.accounts, { retentionDays: config.audit.retentionDays }),
    // Counts are read by whoever may see the package: the rule of showing it.
    downloads: new DownloadService<Actor>(downloadStore, async (actor, name) => {
      await management.packages.show(actor, name);
    }),
    realm: config.publicUrl ? new URL('/token', config.publicUrl).toString() : undefined,
    refreshTokenTtlMs: config.auth.refreshTokenTtlDays * 86_400_000,
  };
}

/** The web pages: search in every mode; sessions, package and account pages with token auth. */
function buildWeb(
  search: SearchService,
  auth:
    | {
        management: IdentityService;
        keys: SigningKeys;
        packageVersions: PackageVersionService;
        downloads: DownloadService<Actor>;
        hooks: HookService;
      }
    | undefined,
  index: MetadataIndex,
  openBlob: (digest: string) => Promise<Readable>,
): WebDependencies {
  if (!auth) return { search };
  const images = new ImageReader({ index, openBlob });
  return {
    search,
    auth: {
      viewers: new WebViewers({ sessions: auth.management.sessions, keys: auth.keys }),
      management: auth.management,
      packageVersions: auth.packageVersions,
      pages: new PackagePages({ packages: auth.packageVersions, index, images, downloads: auth.downloads }),
      owners: new OwnerPages({ search, packages: auth.packageVersions, management: auth.management }),
      hooks: auth.hooks,
    },
  };
}

/** The search index, its indexer (over the identity model, or in open mode the metadata index) and the service. */
export function buildSearch(
  database: StoreDatabase,
  auth: { identities: IdentityStores } | undefined,
  index: SqlMetadataIndex,
  blobStore: BlobStore,
  downloadStore: SqlDownloadStore,
  log: Logger,
): { indexer: PackageIndexer; service: SearchService } {
  const searchIndex = new SqlSearchIndex(database);
  const documents = new PackageDocuments({ versions: index, openBlob: (digest) => blobStore.openRead(digest), downloads: downloadStore });
  const catalog = auth ? new IdentityPackageCatalog(auth.identities) : new OpenPackageCatalog(index);
  return {
    indexer: new PackageIndexer(searchIndex, catalog, documents, log),
    service: new SearchService(searchIndex, auth ? new IdentitySearchAccess(auth.identities) : OPEN_ACCESS),
  };
}

/** The first start creates `admin`; a generated password is printed once, to stderr, never logged again. */
async function ensureAdmin(accounts: AccountStore, config: Config, log: Logger): Promise<void> {
  if (await accounts.accountByName('admin')) return;
  const given = config.auth.adminPassword;
  const password = given ?? randomBytes(18).toString('base64url');
  try {
    await accounts.createAccount('admin', 'user', await hashPassword(password), true);
  } catch (err) {
    // Replicas starting together race to create it: one wins, the others find it made.
    if (err instanceof NameTakenError) return;
    throw err;
  }
  log.info({ user: 'admin' }, 'created the admin user');
  if (!given) process.stderr.write(`\nBerth created the user "admin" with password: ${password}\nIt is shown only this once.\n\n`);
}
