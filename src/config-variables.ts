/**
 * Every environment variable Berth reads: the setting it sets, its default as
 * shown to people, and its help. One table, so `berth --help`, the loader
 * and the README (checked by spec/config-variables.test.ts) cannot disagree.
 */
import type { Config } from './config';

export interface ConfigVariable {
  name: string;
  group: 'server' | 'auth' | 'scale-out';
  /** The default as `--help` shows it (read from DEFAULT_CONFIG where there is one), or what happens when unset. */
  shown: string | ((defaults: Config) => string);
  help: string;
  /** Writes the value into the merged configuration object, before validation. */
  apply(config: Record<string, unknown>, value: string): void;
}

export const CONFIG_VARIABLES: readonly ConfigVariable[] = [
  {
    name: 'BERTH_ADDR',
    group: 'server',
    shown: (d) => d.addr,
    help: 'listen address, host:port or [v6]:port',
    apply: (c, v) => (c.addr = v),
  },
  {
    name: 'BERTH_DATA',
    group: 'server',
    shown: (d) => d.dataDir,
    help: 'data directory: berth.db (SQLite, unless DATABASE_URL) and storage/ (blobs, unless S3)',
    apply: (c, v) => (c.dataDir = v),
  },
  {
    name: 'BERTH_LOG_LEVEL',
    group: 'server',
    shown: (d) => d.logLevel,
    help: 'fatal|error|warn|info|debug|trace|silent',
    apply: (c, v) => (c.logLevel = v),
  },
  {
    name: 'BERTH_UPLOAD_TTL_SECONDS',
    group: 'server',
    shown: (d) => String(d.uploads.sessionTtlSeconds),
    help: 'idle upload sessions are purged with their data after this long',
    apply: (c, v) => (section(c, 'uploads').sessionTtlSeconds = numberOrText(v)),
  },
  {
    name: 'BERTH_MAX_PAGE_SIZE',
    group: 'server',
    shown: (d) => String(d.maxPageSize),
    help: 'the largest tags-list or catalog page, whatever n asks for',
    apply: (c, v) => (c.maxPageSize = numberOrText(v)),
  },
  {
    name: 'BERTH_DOWNLOADS_RETENTION_DAYS',
    group: 'server',
    shown: (d) => String(d.downloads.retentionDays),
    help: 'daily download counts are kept this long (30-36500); totals are kept for good',
    apply: (c, v) => (section(c, 'downloads').retentionDays = numberOrText(v)),
  },
  {
    name: 'BERTH_DOWNLOAD_COUNTS',
    group: 'server',
    shown: (d) => String(d.downloads.counting),
    help: 'count manifest downloads per version and day (false: pulls count nothing)',
    apply: (c, v) => (section(c, 'downloads').counting = booleanOrText(v)),
  },
  {
    name: 'BERTH_RESTORE_WINDOW_DAYS',
    group: 'auth',
    shown: (d) => String(d.versions.restoreWindowDays),
    help: 'deleted versions and packages can be restored this long (1-36500); then they wait for garbage collection',
    apply: (c, v) => (section(c, 'versions').restoreWindowDays = numberOrText(v)),
  },
  {
    name: 'BERTH_GC_INTERVAL_HOURS',
    group: 'server',
    shown: (d) => String(d.gc.intervalHours),
    help: 'garbage collection of unreferenced blobs and purged versions runs this often (0: only `berth gc` and the API)',
    apply: (c, v) => (section(c, 'gc').intervalHours = numberOrText(v)),
  },
  {
    name: 'BERTH_GC_GRACE_SECONDS',
    group: 'server',
    shown: (d) => String(d.gc.graceSeconds),
    help: 'garbage collection keeps blobs uploaded, linked or unreferenced more recently than this',
    apply: (c, v) => (section(c, 'gc').graceSeconds = numberOrText(v)),
  },
  {
    name: 'BERTH_RETENTION_INTERVAL_HOURS',
    group: 'server',
    shown: (d) => String(d.retention.intervalHours),
    help: 'retention policies delete (soft, restorable) the versions they no longer keep this often (0: only `berth retention` and the API)',
    apply: (c, v) => (section(c, 'retention').intervalHours = numberOrText(v)),
  },
  {
    name: 'BERTH_QUOTA_BYTES',
    group: 'server',
    shown: (d) => d.quotas.bytes?.toString() ?? 'unlimited',
    help: 'the bytes of distinct blobs an owner (user or organisation) may store, unless `berth quota set` gave it its own',
    apply: (c, v) => (section(c, 'quotas').bytes = unlimitedOrNumber(v)),
  },
  {
    name: 'BERTH_QUOTA_VERSIONS_PER_PACKAGE',
    group: 'server',
    shown: (d) => d.quotas.versionsPerPackage?.toString() ?? 'unlimited',
    help: 'the live versions a package may have, unless `berth quota set` gave its owner another limit',
    apply: (c, v) => (section(c, 'quotas').versionsPerPackage = unlimitedOrNumber(v)),
  },
  {
    name: 'BERTH_AUDIT_RETENTION_DAYS',
    group: 'auth',
    shown: (d) => String(d.audit.retentionDays),
    help: 'audit log entries are kept this long (1-36500)',
    apply: (c, v) => (section(c, 'audit').retentionDays = numberOrText(v)),
  },
  {
    name: 'BERTH_SPARSE_MANIFESTS',
    group: 'server',
    shown: 'none',
    help: 'repositories (comma-separated globs, e.g. mirror/*) whose manifests may name platforms or layers never pushed',
    apply: (c, v) => (section(c, 'manifests').sparse = v),
  },
  {
    name: 'BERTH_PROMOTION_ALLOWED_HOSTS',
    group: 'server',
    shown: 'none',
    help: 'hosts, addresses and CIDRs (comma-separated) promotions to other registries may reach although internal (loopback, private, link-local)',
    apply: (c, v) => (section(c, 'promotion').allowedHosts = v),
  },
  {
    name: 'BERTH_WEBHOOK_ALLOWED_HOSTS',
    group: 'server',
    shown: 'none',
    help: 'hosts, addresses and CIDRs (comma-separated) hook URLs may reach although internal (loopback, private, link-local)',
    apply: (c, v) => (section(c, 'webhooks').allowedHosts = v),
  },
  {
    name: 'BERTH_PROXIES',
    group: 'server',
    shown: 'none',
    help: 'pull-through caches, as JSON: [{"prefix":"dockerhub","url":"https://registry-1.docker.io"}] (see the README)',
    apply: (c, v) => (c.proxies = jsonOrText(v)),
  },
  {
    name: 'BERTH_WORKERS',
    group: 'server',
    shown: (d) => String(d.workers),
    help: 'processes serving requests: auto = one per core (at most 8), 1 = a single process (more than one: a background worker beside them sends webhooks)',
    apply: (c, v) => (c.workers = numberOrText(v)),
  },
  {
    name: 'BERTH_SHUTDOWN_GRACE_SECONDS',
    group: 'server',
    shown: (d) => String(d.shutdownGraceSeconds),
    help: 'how long SIGTERM waits for requests in flight',
    apply: (c, v) => (c.shutdownGraceSeconds = numberOrText(v)),
  },
  {
    name: 'BERTH_PUBLIC_URL',
    group: 'server',
    shown: 'from requests',
    help: 'the URL clients use; token realm and package source links are matched against it',
    apply: (c, v) => (c.publicUrl = v),
  },
  {
    name: 'BERTH_AUTH',
    group: 'auth',
    shown: (d) => d.auth.mode,
    help: 'token (Docker token auth) or none (open mode: anyone may do anything)',
    apply: (c, v) => (section(c, 'auth').mode = v),
  },
  {
    name: 'BERTH_ADMIN_PASSWORD',
    group: 'auth',
    shown: 'generated',
    help: "the admin user's password on first start (a generated one is printed once)",
    apply: (c, v) => (section(c, 'auth').adminPassword = v),
  },
  {
    name: 'BERTH_TOKEN_TTL_SECONDS',
    group: 'auth',
    shown: (d) => String(d.auth.tokenTtlSeconds),
    help: 'lifetime of the JWTs /token issues (30-86400)',
    apply: (c, v) => (section(c, 'auth').tokenTtlSeconds = numberOrText(v)),
  },
  {
    name: 'BERTH_CI_TOKEN_TTL_MINUTES',
    group: 'auth',
    shown: (d) => String(d.auth.ciTokenTtlMinutes),
    help: 'default lifetime of CI tokens (1-1440)',
    apply: (c, v) => (section(c, 'auth').ciTokenTtlMinutes = numberOrText(v)),
  },
  {
    name: 'DATABASE_URL',
    group: 'scale-out',
    shown: 'berth.db',
    help: 'postgres://user:password@host:port/db: every store in PostgreSQL instead of berth.db',
    apply: (c, v) => (section(c, 'database').url = v),
  },
  {
    name: 'REDIS_URL',
    group: 'scale-out',
    shown: 'in the database',
    help: 'upload sessions in Redis, e.g. redis://127.0.0.1:6379',
    apply: (c, v) => (section(c, 'redis').url = v),
  },
  // The other S3_* variables count only once S3_BUCKET (or the file) has chosen S3.
  {
    name: 'S3_BUCKET',
    group: 'scale-out',
    shown: 'BERTH_DATA/storage',
    help: 'blobs in this S3 bucket; the other S3_* count only with it',
    apply: (c, v) => (section(c, 's3').bucket = v),
  },
  {
    name: 'S3_ENDPOINT',
    group: 'scale-out',
    shown: 'AWS',
    help: 'another S3 server than AWS, e.g. http://127.0.0.1:9000',
    apply: (c, v) => s3Setting(c, 'endpoint', v),
  },
  { name: 'S3_REGION', group: 'scale-out', shown: 'us-east-1', help: 'the bucket region', apply: (c, v) => s3Setting(c, 'region', v) },
  {
    name: 'S3_ACCESS_KEY_ID',
    group: 'scale-out',
    shown: 'SDK chain',
    help: "with S3_SECRET_ACCESS_KEY, or neither for the AWS SDK's default credentials",
    apply: (c, v) => s3Setting(c, 'accessKeyId', v),
  },
  {
    name: 'S3_SECRET_ACCESS_KEY',
    group: 'scale-out',
    shown: 'SDK chain',
    help: 'with S3_ACCESS_KEY_ID',
    apply: (c, v) => s3Setting(c, 'secretAccessKey', v),
  },
  {
    name: 'S3_FORCE_PATH_STYLE',
    group: 'scale-out',
    shown: 'false',
    help: 'true for path-style bucket URLs',
    apply: (c, v) => s3Setting(c, 'forcePathStyle', booleanOrText(v)),
  },
  {
    name: 'S3_REDIRECT',
    group: 'scale-out',
    shown: 'false',
    help: 'true: blob GETs answer 307 to a pre-signed URL',
    apply: (c, v) => s3Setting(c, 'redirect', booleanOrText(v)),
  },
];

const GROUP_TITLES: Readonly<Record<ConfigVariable['group'], string>> = {
  server: 'Configuration (environment, or a JSON file named by BERTH_CONFIG; the environment wins):',
  auth: 'Authentication:',
  'scale-out': 'Scale-out (replicas on one or several hosts sharing PostgreSQL, Redis and S3):',
};

/** The variables section of `berth --help`, from the table. */
export function configVariablesHelp(defaults: Config): string {
  const width = Math.max(...CONFIG_VARIABLES.map((v) => v.name.length)) + 2;
  return (Object.keys(GROUP_TITLES) as Array<ConfigVariable['group']>)
    .map((group) => {
      const lines = CONFIG_VARIABLES.filter((v) => v.group === group).map(
        (v) => `  ${v.name.padEnd(width)}${v.help} (default ${typeof v.shown === 'string' ? v.shown : v.shown(defaults)})`,
      );
      return `${GROUP_TITLES[group]}\n${lines.join('\n')}\n`;
    })
    .join('\n');
}

function section(c: Record<string, unknown>, key: string): Record<string, unknown> {
  const existing = c[key];
  if (typeof existing === 'object' && existing !== null) return existing as Record<string, unknown>;
  const created: Record<string, unknown> = {};
  c[key] = created;
  return created;
}

function numberOrText(v: string): number | string {
  return /^-?\d+$/.test(v) ? Number(v) : v;
}

/** Parsed JSON, or the text itself for the schema to reject with the setting's name. */
function jsonOrText(v: string): unknown {
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

function booleanOrText(v: string): boolean | string {
  if (/^(true|1|yes)$/i.test(v)) return true;
  if (/^(false|0|no)$/i.test(v)) return false;
  return v;
}

function s3Setting(c: Record<string, unknown>, key: string, v: unknown): void {
  if (typeof c.s3 === 'object' && c.s3 !== null) (c.s3 as Record<string, unknown>)[key] = v;
}

/** `unlimited` (or empty) is null; anything else as numberOrText reads it, for the schema to judge. */
function unlimitedOrNumber(v: string): number | string | null {
  return v === '' || v === 'unlimited' ? null : numberOrText(v);
}
