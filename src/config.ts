import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { CONFIG_VARIABLES } from './config-variables';

/**
 * Berth's configuration: defaults, overlaid by an optional JSON file
 * (BERTH_CONFIG), overlaid by environment variables. Validated once at
 * start; a bad value stops Berth with a message naming the setting.
 */
const configSchema = z.object({
  addr: z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:5000 or [::1]:5000'),
  dataDir: z.string().min(1),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  uploads: z.strictObject({
    /** Idle upload sessions older than this are purged with their data. */
    sessionTtlSeconds: z.number().int().positive(),
    purgeIntervalSeconds: z.number().int().positive(),
  }),
  /** Manifest download counts: counted in memory, written every `flushIntervalSeconds`. */
  downloads: z.strictObject({
    /** Off: pulls count nothing (the download API answers zeros); for a bench of the pull path without it. */
    counting: z.boolean(),
    flushIntervalSeconds: z.number().int().min(1).max(300),
    /** Daily counts older than this are pruned (totals are kept for good); the API shows the last 30 days. */
    retentionDays: z.number().int().min(30).max(36_500),
  }),
  /** Deleted versions and packages can be restored this long (GitHub: 30 days). */
  versions: z.strictObject({ restoreWindowDays: z.number().int().min(1).max(36_500) }),
  /**
   * Garbage collection (src/gc): a sweep every `intervalHours` (0: only on demand); blobs committed, linked or
   * unreferenced less than `graceSeconds` ago are kept (an upload about to be named by a manifest).
   */
  gc: z.strictObject({ intervalHours: z.number().int().min(0).max(8760), graceSeconds: z.number().int().min(0).max(31_536_000) }),
  /** Retention policies (src/retention) are applied every `intervalHours` (0: only on demand, `berth retention` and the API). */
  retention: z.strictObject({ intervalHours: z.number().int().min(0).max(8760) }),
  /**
   * Quotas' defaults (src/quotas), for owners without limits of their own: the bytes an owner's blobs may take, and
   * the live versions a package may have; null: unlimited.
   */
  quotas: z.strictObject({
    bytes: z.number().int().min(0).nullable(),
    versionsPerPackage: z.number().int().min(1).max(1_000_000_000).nullable(),
  }),
  /** The audit log keeps entries this long. */
  audit: z.strictObject({ retentionDays: z.number().int().min(1).max(36_500) }),
  /**
   * Repositories (comma-separated globs, `*` any run of characters: `mirror/*`, `acme/base`) whose manifests may be
   * sparse, naming platforms or layers that were never pushed (distribution-spec v1.1); none by default.
   */
  manifests: z.strictObject({ sparse: z.string() }),
  /** Hook URLs may reach these hosts, addresses and CIDRs (comma-separated) although they are internal. */
  webhooks: z.strictObject({ allowedHosts: z.string() }),
  /** Promotions to other registries may reach these hosts, addresses and CIDRs (comma-separated) although internal. */
  promotion: z.strictObject({ allowedHosts: z.string() }),
  /**
   * Pull-through caches: a pull of `<prefix>/<path>` is served from Berth's own index and storage, or fetched
   * from `url`'s repository `<path>` and kept (src/proxy). Pushes into a prefix are refused.
   */
  proxies: z
    .array(
      z.strictObject({
        prefix: z.string().regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/, 'must be one path component of a repository name, e.g. dockerhub'),
        url: z.string().regex(/^https?:\/\/[^/@]+\/?$/, 'must be http(s)://host[:port], without a path or credentials'),
        username: z.string().min(1).optional(),
        password: z.string().min(1).optional(),
        /** A cached tag is served this long before a HEAD upstream revalidates it. */
        tagTtlSeconds: z.number().int().min(0).max(31_536_000).default(300),
        /** Who may pull through it: anyone, or signed-in users only. */
        access: z.enum(['anonymous', 'signed-in']).default('signed-in'),
      }),
    )
    .refine((list) => new Set(list.map((p) => p.prefix)).size === list.length, { message: 'each prefix may be configured once' }),
  /** The most entries one tags-list or catalog page may hold, whatever `n` asks for. */
  maxPageSize: z.number().int().min(1).max(100_000),
  /**
   * Processes serving requests: `auto` is one per CPU core (at most 8), as a Go server uses every
   * core; 1 is a single process with no cluster primary.
   */
  workers: z.union([z.literal('auto'), z.number().int().min(1).max(64)]),
  /** How long a SIGTERM waits for requests in flight before closing them. */
  shutdownGraceSeconds: z.number().int().nonnegative(),
  /**
   * Stores on PostgreSQL instead of the SQLite file in dataDir (DATABASE_URL). This
   * session only the stores moved onto src/persistence (login failures) follow it.
   */
  database: z
    .strictObject({
      url: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL'),
    })
    .optional(),
  /** Upload sessions in Redis instead of the SQLite file, shared by replicas (REDIS_URL). */
  redis: z
    .strictObject({
      url: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
      keyPrefix: z.string().default('berth:'),
    })
    .optional(),
  /** Blobs in an S3 bucket instead of dataDir/storage (S3_BUCKET, with the other S3_* variables). */
  s3: z
    .strictObject({
      bucket: z.string().min(1),
      /** Another S3 server than AWS's, e.g. http://127.0.0.1:9000. */
      endpoint: z
        .string()
        .regex(/^https?:\/\//, 'must be an http:// or https:// URL')
        .optional(),
      region: z.string().min(1).default('us-east-1'),
      /** Both, or neither for the SDK's default credential chain. */
      accessKeyId: z.string().min(1).optional(),
      secretAccessKey: z.string().min(1).optional(),
      forcePathStyle: z.boolean().default(false),
      /** Blob GETs answer 307 to a pre-signed URL instead of streaming through Berth. */
      redirect: z.boolean().default(false),
      /** Key prefix inside the bucket. */
      prefix: z.string().default(''),
    })
    .refine((s) => (s.accessKeyId === undefined) === (s.secretAccessKey === undefined), {
      message: 'set both accessKeyId and secretAccessKey, or neither',
    })
    .optional(),
  /** The URL clients reach Berth at; package source links are matched against it. Derived from requests when unset. */
  publicUrl: z.url().optional(),
  auth: z.strictObject({
    /** `token` (Docker token auth, the default) or `none`: an explicit opt-in open mode for throwaway local use. */
    mode: z.enum(['token', 'none']),
    /** The `service` named in challenges and the JWT audience. */
    service: z.string().min(1),
    issuer: z.string().min(1),
    tokenTtlSeconds: z.number().int().min(30).max(86_400),
    refreshTokenTtlDays: z.number().int().min(1).max(3650),
    /** The default lifetime of a CI token; one asked for explicitly may not exceed a day either. */
    ciTokenTtlMinutes: z.number().int().min(1).max(1440).optional(),
    /** The first start creates `admin` with this password, or a generated one printed once. */
    adminPassword: z.string().min(8).optional(),
  }),
});

export type Config = z.infer<typeof configSchema>;

export const DEFAULT_CONFIG: Config = {
  addr: '127.0.0.1:5000',
  dataDir: './data',
  logLevel: 'info',
  uploads: { sessionTtlSeconds: 24 * 3600, purgeIntervalSeconds: 600 },
  maxPageSize: 10_000,
  downloads: { counting: true, flushIntervalSeconds: 5, retentionDays: 90 },
  versions: { restoreWindowDays: 30 },
  gc: { intervalHours: 24, graceSeconds: 3600 },
  retention: { intervalHours: 24 },
  quotas: { bytes: null, versionsPerPackage: null },
  audit: { retentionDays: 90 },
  manifests: { sparse: '' },
  webhooks: { allowedHosts: '' },
  promotion: { allowedHosts: '' },
  proxies: [],
  workers: 'auto',
  shutdownGraceSeconds: 25,
  auth: {
    mode: 'token',
    service: 'berth',
    issuer: 'berth',
    tokenTtlSeconds: 300,
    refreshTokenTtlDays: 90,
    ciTokenTtlMinutes: 60,
  },
};

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const merged: Record<string, unknown> = structuredClone(DEFAULT_CONFIG);
  const file = env.BERTH_CONFIG;
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`BERTH_CONFIG ${file}: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null) throw new ConfigError(`BERTH_CONFIG ${file}: must hold a JSON object`);
    deepMerge(merged, parsed as Record<string, unknown>);
  }
  for (const variable of CONFIG_VARIABLES) {
    const value = env[variable.name];
    if (value !== undefined && value !== '') variable.apply(merged, value);
  }
  const result = configSchema.strict().safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
    throw new ConfigError(`invalid configuration:\n${problems}`);
  }
  return { ...result.data, dataDir: path.resolve(result.data.dataDir) };
}

/** How many processes serve: `auto` is one per core the process may use, at most 8. */
export function workerCount(config: Config, cores = os.availableParallelism()): number {
  return config.workers === 'auto' ? Math.max(1, Math.min(cores, 8)) : config.workers;
}

/** host and port for net.Server.listen, from `host:port` or `[v6]:port`. */
export function listenAddress(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i).replace(/^\[|\]$/g, '');
  return { host: host || '0.0.0.0', port: Number(addr.slice(i + 1)) };
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && typeof existing === 'object' && existing !== null) {
      deepMerge(existing as Record<string, unknown>, value as Record<string, unknown>);
    } else {
      target[key] = value;
    }
  }
}

/**
 * Whether the cluster primary follows uploads' hashes (src/cluster/upload-hash-follower.ts): workers of one
 * host staging on the filesystem. Replicas (Redis) and S3 parts carry a resumable hash state instead.
 */
export function followsStagedHashes(config: Config): boolean {
  return !config.redis && !config.s3 && workerCount(config) > 1;
}

/** Where the filesystem store keeps blobs and staged uploads. */
export function fsStorageRoot(config: Config): string {
  return path.join(config.dataDir, 'storage');
}
