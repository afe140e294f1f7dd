import { parseArgs } from 'node:util';
import { InvalidRequest } from '../auth/management/errors';
import type { CliIo } from './admin-commands';
import { withRegistry } from './transfer-commands';

const USAGE = 'usage: berth retention [--dry-run] [--owner OWNER | --package OWNER/NAME]';

/**
 * `berth retention`: applies the retention policies now (src/retention/retention-runner.ts), of every owner or
 * of one, on the configured data directory or database and storage, safe while servers run (the lease keeps it
 * the only run). One line per version deleted (or, `--dry-run`, to delete) with why; the last line is JSON:
 * `{"dry_run":B,"packages":N,"deleted":N,"kept":N,"failed":N,"seconds":N}`.
 */
export async function runRetentionCommand(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv.slice(1),
      strict: true,
      options: { 'dry-run': { type: 'boolean' }, owner: { type: 'string' }, package: { type: 'string' } },
    });
  } catch (err) {
    io.stderr(`berth: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { owner, package: repository } = parsed.values;
  if (owner !== undefined && repository !== undefined) {
    io.stderr(`berth: --owner and --package exclude each other\n${USAGE}\n`);
    return 2;
  }
  const dryRun = parsed.values['dry-run'] === true;
  return withRegistry(io, async (registry) => {
    if (!registry.retention) throw new InvalidRequest('retention needs the identity model (BERTH_AUTH=token)');
    const report = await registry.retention.run({ owner, repository }, { dryRun });
    for (const p of report.packages) {
      for (const d of p.delete) {
        io.stdout(
          `${dryRun ? 'would delete' : 'deleted'} ${p.name} version ${d.id} ${d.digest}${d.tags.length ? ` (${d.tags.join(', ')})` : ''}: ${d.reason}\n`,
        );
      }
      for (const f of p.failed) io.stdout(`left ${p.name} versions ${f.ids.join(', ')}: ${f.reason}\n`);
    }
    const { deleted, kept, failed, seconds } = report;
    io.stdout(`${JSON.stringify({ dry_run: dryRun, packages: report.packages.length, deleted, kept, failed, seconds })}\n`);
  });
}
