#!/usr/bin/env node
import { parseArgs } from 'node:util';
import cluster from 'node:cluster';
import { ConfigError, loadConfig, workerCount } from './config';
import { createLogger } from './log';
import { ADMIN_COMMANDS, ADMIN_HELP } from './cli/admin-help';
// The rest loads on demand: a cluster primary loads none of the registry (its memory counts too).

const HELP = `berth — an OCI container registry

Usage:
  berth serve        start the registry
  berth --help       show this help
  berth --version    show the version

${ADMIN_HELP}
Configuration (environment, or a JSON file named by BERTH_CONFIG):
  BERTH_ADDR                   listen address, host:port        (default 127.0.0.1:5000)
  BERTH_DATA                   data directory                   (default ./data)
  BERTH_LOG_LEVEL              fatal|error|warn|info|debug|silent (default info)
  BERTH_UPLOAD_TTL_SECONDS     idle upload sessions expire after (default 86400)
  BERTH_MAX_PAGE_SIZE          largest tags/catalog page         (default 10000)
  BERTH_WORKERS                processes serving requests, or auto = one per core, at most 8 (default auto)
  BERTH_SHUTDOWN_GRACE_SECONDS wait for requests on SIGTERM      (default 25)

Scale-out (replicas sharing sessions and blobs):
  DATABASE_URL                 postgres://user:password@host:port/db: failed logins in PostgreSQL
                               (index, sessions and identities stay in the SQLite file for now)
  REDIS_URL                    upload sessions in Redis, e.g. redis://127.0.0.1:6379
  S3_BUCKET                    blobs in this S3 bucket; the other S3_* count only with it:
  S3_ENDPOINT                  another S3 server than AWS, e.g. http://127.0.0.1:9000
  S3_REGION                    (default us-east-1)
  S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY   both, or neither for the SDK's default credentials
  S3_FORCE_PATH_STYLE          true for path-style bucket URLs  (default false)
  S3_REDIRECT                  true: blob GETs answer 307 to a pre-signed URL (default false)
  BERTH_CI_TOKEN_TTL_MINUTES   default CI token lifetime, 1-1440  (default 60)
`;

async function main(argv: string[]): Promise<number> {
  if (argv[0] !== undefined && ADMIN_COMMANDS.has(argv[0])) {
    const { runAdminCommand } = await import('./cli/admin-commands');
    return runAdminCommand(argv, {
      env: process.env,
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      readStdin,
    });
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.version) {
    // A require, not an import: package.json sits outside the build's rootDir.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    process.stdout.write(`${(require('../package.json') as { version: string }).version}\n`);
    return 0;
  }
  const command = positionals[0];
  if (command !== 'serve') {
    process.stderr.write(command ? `unknown command: ${command}\n\n${HELP}` : HELP);
    return 2;
  }
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const workers = workerCount(config);
  if (cluster.isPrimary && workers > 1) {
    const { runPrimary } = await import('./cluster/primary');
    log.info({ dataDir: config.dataDir, workers }, 'starting workers');
    const code = await runPrimary({ workers, shutdownGraceSeconds: config.shutdownGraceSeconds }, log);
    process.exit(code);
  }
  const { startServer } = await import('./server');
  let gather: (() => Promise<string>) | undefined;
  let metrics: import('./http/metrics').HttpMetrics | undefined;
  if (cluster.isWorker) {
    const { clusterMetricsSource, createHttpMetrics } = await import('./http/metrics');
    const { workerMetricsGather } = await import('./cluster/metrics-relay');
    metrics = createHttpMetrics({ gather: () => (gather ? gather() : Promise.reject(new Error('metrics relay not ready'))) });
    gather = workerMetricsGather(clusterMetricsSource(metrics.registry));
  }
  const running = await startServer(config, log, { metrics });
  if (cluster.isWorker) log.debug({ url: running.url }, 'worker serving');
  else log.info({ url: running.url, dataDir: config.dataDir }, 'berth is serving');
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  return -1;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`berth: ${(err as Error).message}\n`);
      process.exit(2);
    }
    process.stderr.write(`berth: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
