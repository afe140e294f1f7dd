#!/usr/bin/env node
import { parseArgs } from 'node:util';
import cluster from 'node:cluster';
import { ConfigError, followsStagedHashes, fsStorageRoot, loadConfig, workerCount } from './config';
import { createLogger } from './log';
import { ADMIN_COMMANDS, TRANSFER_COMMANDS } from './cli/admin-help';
import { HELP } from './cli/help';
import type { CliIo } from './cli/admin-commands';
// The rest loads on demand: a cluster primary loads none of the registry (its memory counts too).

/** Commands that run one of Berth's jobs on the configured deployment, each loaded when named. */
const JOB_COMMANDS = new Map<string, () => Promise<(argv: string[], io: CliIo) => Promise<number>>>([
  ['gc', async () => (await import('./cli/gc-command')).runGcCommand],
  ['retention', async () => (await import('./cli/retention-command')).runRetentionCommand],
]);

async function main(argv: string[]): Promise<number> {
  const io: CliIo = {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readStdin,
  };
  if (argv[0] !== undefined && ADMIN_COMMANDS.has(argv[0])) {
    const { runAdminCommand } = await import('./cli/admin-commands');
    return runAdminCommand(argv, io);
  }
  if (argv[0] !== undefined && TRANSFER_COMMANDS.has(argv[0])) {
    const { runTransferCommand } = await import('./cli/transfer-commands');
    return runTransferCommand(argv, io);
  }
  const job = argv[0] === undefined ? undefined : JOB_COMMANDS.get(argv[0]);
  if (job) return (await job())(argv, io);
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
    const hashFollower = followsStagedHashes(config)
      ? { storageRoot: fsStorageRoot(config), idleMs: config.uploads.sessionTtlSeconds * 1000 }
      : undefined;
    const code = await runPrimary({ workers, shutdownGraceSeconds: config.shutdownGraceSeconds, hashFollower, background: true }, log);
    process.exit(code);
  }
  let gather: (() => Promise<string>) | undefined;
  let metrics: import('./http/metrics').HttpMetrics | undefined;
  if (cluster.isWorker) {
    const { clusterMetricsSource, createHttpMetrics } = await import('./http/metrics');
    const { workerMetricsGather } = await import('./cluster/metrics-relay');
    metrics = createHttpMetrics({ gather: () => (gather ? gather() : Promise.reject(new Error('metrics relay not ready'))) });
    gather = workerMetricsGather(clusterMetricsSource(metrics.registry));
  }
  const background = cluster.isWorker ? await import('./cluster/background-worker') : undefined;
  let stop: () => Promise<void>;
  if (background?.isBackgroundWorker()) {
    const { createRegistry } = await import('./composition-root');
    background.lowerBackgroundPriority();
    const registry = await createRegistry(config, log, { metrics });
    // Again for the threads the registry started (SQLite's checkpoint thread, the hashing and file pools).
    background.lowerBackgroundPriority();
    background.onBackgroundKick((job) => {
      if (job === 'webhook-relay' || job === 'webhook-deliveries') registry.kick(job);
    });
    log.info('background worker running');
    stop = () => registry.close();
  } else {
    const { startServer } = await import('./server');
    const elsewhere = background?.backgroundKicker();
    const running = await startServer(config, log, { metrics, background: elsewhere && { elsewhere } });
    if (cluster.isWorker) log.debug({ url: running.url }, 'worker serving');
    else log.info({ url: running.url, dataDir: config.dataDir }, 'berth is serving');
    stop = () => running.stop();
  }
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    stop().then(
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
