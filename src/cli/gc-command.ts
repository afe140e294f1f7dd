import { parseArgs } from 'node:util';
import type { CliIo } from './admin-commands';
import { withRegistry } from './transfer-commands';

const USAGE = 'usage: berth gc [--dry-run] [--grace-seconds N] [--reconcile]';

/**
 * `berth gc`: one garbage collection (src/gc/collector.ts) on the configured data directory or database and
 * storage, safe while servers run (the lease keeps it the only collector). Its last line is JSON:
 * `{"objects":N,"bytes":N,"seconds":N}` (for a dry run, what it would reclaim).
 */
export async function runGcCommand(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv.slice(1),
      strict: true,
      options: { 'dry-run': { type: 'boolean' }, 'grace-seconds': { type: 'string' }, reconcile: { type: 'boolean' } },
    });
  } catch (err) {
    io.stderr(`berth: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const grace = parsed.values['grace-seconds'];
  if (grace !== undefined && !/^\d{1,9}$/.test(grace)) {
    io.stderr(`berth: --grace-seconds takes a whole number of seconds\n${USAGE}\n`);
    return 2;
  }
  return withRegistry(io, async (registry) => {
    const summary = await registry.collector.collect({
      dryRun: parsed.values['dry-run'] === true,
      graceSeconds: grace === undefined ? undefined : Number(grace),
      reconcile: parsed.values.reconcile === true,
    });
    if (summary.manifests > 0) {
      io.stderr(`${summary.dryRun ? 'would purge' : 'purged'} ${summary.manifests} manifests past their restore window\n`);
    }
    io.stdout(`${JSON.stringify({ objects: summary.objects, bytes: summary.bytes, seconds: summary.seconds })}\n`);
  });
}
