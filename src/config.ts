import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * Berth's configuration: defaults, overlaid by an optional JSON file
 * (BERTH_CONFIG), overlaid by environment variables. Validated once at
 * start; a bad value stops Berth with a message naming the setting.
 */
const configSchema = z.object({
  addr: z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:5000 or [::1]:5000'),
  dataDir: z.string().min(1),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  uploads: z.strictObject({
    /** Idle upload sessions older than this are purged with their data. */
    sessionTtlSeconds: z.number().int().positive(),
    purgeIntervalSeconds: z.number().int().positive(),
  }),
  /** The most entries one tags-list or catalog page may hold, whatever `n` asks for. */
  maxPageSize: z.number().int().min(1).max(100_000),
  /** How long a SIGTERM waits for requests in flight before closing them. */
  shutdownGraceSeconds: z.number().int().nonnegative(),
});

export type Config = z.infer<typeof configSchema>;

export const DEFAULT_CONFIG: Config = {
  addr: '127.0.0.1:5000',
  dataDir: './data',
  logLevel: 'info',
  uploads: { sessionTtlSeconds: 24 * 3600, purgeIntervalSeconds: 600 },
  maxPageSize: 10_000,
  shutdownGraceSeconds: 25,
};

/** Environment variables and the setting each one sets. */
const ENV: ReadonlyArray<[string, (c: Record<string, unknown>, v: string) => void]> = [
  ['BERTH_ADDR', (c, v) => (c.addr = v)],
  ['BERTH_DATA', (c, v) => (c.dataDir = v)],
  ['BERTH_LOG_LEVEL', (c, v) => (c.logLevel = v)],
  ['BERTH_UPLOAD_TTL_SECONDS', (c, v) => (section(c, 'uploads').sessionTtlSeconds = numberOrText(v))],
  ['BERTH_MAX_PAGE_SIZE', (c, v) => (c.maxPageSize = numberOrText(v))],
  ['BERTH_SHUTDOWN_GRACE_SECONDS', (c, v) => (c.shutdownGraceSeconds = numberOrText(v))],
];

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const merged: Record<string, unknown> = structuredClone(DEFAULT_CONFIG) as unknown as Record<string, unknown>;
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
  for (const [name, apply] of ENV) {
    const value = env[name];
    if (value !== undefined && value !== '') apply(merged, value);
  }
  const result = configSchema.strict().safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
    throw new ConfigError(`invalid configuration:\n${problems}`);
  }
  return { ...result.data, dataDir: path.resolve(result.data.dataDir) };
}

/** host and port for net.Server.listen, from `host:port` or `[v6]:port`. */
export function listenAddress(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i).replace(/^\[|\]$/g, '');
  return { host: host || '0.0.0.0', port: Number(addr.slice(i + 1)) };
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
