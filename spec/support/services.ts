import { spawnSync } from 'node:child_process';
import path from 'node:path';

/**
 * Jest globalSetup/globalTeardown for the scale-out drivers' tests: Redis,
 * an S3 server (versitygw) and PostgreSQL. When REDIS_URL / S3_ENDPOINT /
 * DATABASE_URL are given (e.g.
 * by conformance/services.sh in CI) those are used; otherwise they are
 * started here through the same conformance/services.sh, and stopped by PID
 * afterwards. Workers inherit the exported variables. Never skipped: if a
 * server cannot be started, the run fails here.
 */
const SERVICES = path.join(__dirname, '..', '..', 'conformance', 'services.sh');
const EXPORTED = [
  'DATABASE_URL',
  'REDIS_URL',
  'S3_ENDPOINT',
  'S3_REGION',
  'S3_BUCKET',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'S3_FORCE_PATH_STYLE',
];
const OWNED = ['REDIS_PID', 'REDIS_DIR', 'S3_PID', 'S3_DIR', 'PG_PID', 'PG_DIR'];
/** Set by setup for teardown (same process): the servers this run started. */
const STARTED = 'BERTH_SPEC_SERVICES';

function bash(script: string, env: NodeJS.ProcessEnv): string {
  const result = spawnSync('bash', ['-c', `set -e; . "${SERVICES}"; ${script}`], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    // The first run on a machine builds versitygw (minutes); later runs start in about a second.
    timeout: 30 * 60 * 1000,
  });
  if (result.status !== 0) {
    throw new Error(`conformance/services.sh failed (${result.error?.message ?? `exit ${result.status}`}): ${script}`);
  }
  return result.stdout;
}

export async function startServices(): Promise<void> {
  const steps: string[] = [];
  if (!process.env.REDIS_URL) steps.push('redis_start');
  if (!process.env.S3_ENDPOINT) steps.push('s3_start');
  if (!process.env.DATABASE_URL) steps.push('pg_start');
  if (steps.length === 0) return;
  const print = [...EXPORTED, ...OWNED].map((v) => `printf '%s=%s\\n' ${v} "\${${v}:-}"`).join('; ');
  // A step that fails stops what the earlier steps started (set -e would skip the teardown).
  const out = bash(`trap 'if [ $? -ne 0 ]; then redis_stop; s3_stop; pg_stop; fi' EXIT; ${steps.join('; ')}; ${print}`, process.env);
  const started: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const i = line.indexOf('=');
    if (i <= 0) continue;
    const key = line.slice(0, i);
    const value = line.slice(i + 1);
    if (!value) continue;
    if (OWNED.includes(key)) started[key] = value;
    else if (EXPORTED.includes(key) && !process.env[key]) process.env[key] = value;
  }
  process.env[STARTED] = JSON.stringify(started);
}

export async function stopServices(): Promise<void> {
  const started = JSON.parse(process.env[STARTED] ?? '{}') as Record<string, string>;
  if (Object.keys(started).length === 0) return;
  // Only what this run started: a PID inherited from the environment belongs to someone else.
  const owned = Object.fromEntries(OWNED.map((name) => [name, started[name] ?? '']));
  bash('redis_stop; s3_stop; pg_stop', { ...process.env, ...owned });
}
