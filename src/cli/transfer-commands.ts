import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createRegistry, type Registry } from '../composition-root';
import { ConfigError, loadConfig } from '../config';
import { DomainError } from '../domain-error';
import { createLogger } from '../log';
import type { CliIo } from './admin-commands';

/** `OWNER/NAME:TAG` or `OWNER/NAME@DIGEST`; the tag optional where `optionalTag`. */
function reference(value: string | undefined, optionalTag: boolean): { name: string; reference?: string } | null {
  const m = /^([a-z0-9][a-z0-9._/-]*?)(?::([A-Za-z0-9_][A-Za-z0-9._-]{0,127})|@([a-z0-9]+:[a-f0-9]+))?$/.exec(value ?? '');
  if (!m || (!optionalTag && m[2] === undefined && m[3] === undefined)) return null;
  return { name: m[1] as string, reference: m[2] ?? m[3] };
}

/**
 * `berth import FILE OWNER/NAME[:TAG]`, `berth export OWNER/NAME:TAG FILE` and `berth promote SOURCE TARGET`:
 * the API's archive import and export and promotion (src/transfer/), run in this process on the configured
 * data directory or database and storage.
 * Exit codes: 0, 1 for a refused archive or an unknown image, 2 for wrong usage.
 */
export async function runTransferCommand(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'promote') return promote(rest, io);
  const usage =
    command === 'import'
      ? 'usage: berth import FILE OWNER/NAME[:TAG]'
      : 'usage: berth export OWNER/NAME:TAG|@DIGEST FILE [--format oci-archive|docker-archive] [--platform OS/ARCH]';
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: command === 'export' ? { format: { type: 'string' }, platform: { type: 'string' } } : {},
    });
  } catch (err) {
    io.stderr(`berth: ${(err as Error).message}\n${usage}\n`);
    return 2;
  }
  const [first, second] = parsed.positionals;
  const target = reference(command === 'import' ? second : first, command === 'import');
  const file = command === 'import' ? first : second;
  const format = (parsed.values as { format?: string }).format ?? 'oci-archive';
  if (parsed.positionals.length !== 2 || !target || !file || (format !== 'oci-archive' && format !== 'docker-archive')) {
    io.stderr(`berth: ${usage}\n`);
    return 2;
  }
  return withRegistry(io, async (registry) => {
    if (command === 'import') {
      const staged = await registry.transfer.importer.stage(target.name, createReadStream(file));
      const result = await registry.transfer.importer.finish(staged, target.reference, {});
      io.stdout(`${JSON.stringify(result)}\n`);
      return;
    }
    const platform = (parsed.values as { platform?: string }).platform;
    const archive = await registry.transfer.exporter.export(target.name, target.reference as string, format, platform);
    // Written beside the target and renamed into place: an interrupted export leaves no partial file under its name.
    const partial = `${file}.partial`;
    try {
      await pipeline(archive.stream, createWriteStream(partial));
      await rename(partial, file);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
  });
}

async function promote(args: string[], io: CliIo): Promise<number> {
  const usage = 'usage: berth promote OWNER/NAME:TAG|@DIGEST OWNER/NAME:TAG [--referrers]';
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: { referrers: { type: 'boolean' } } });
  } catch (err) {
    io.stderr(`berth: ${(err as Error).message}\n${usage}\n`);
    return 2;
  }
  const source = reference(parsed.positionals[0], false);
  const target = reference(parsed.positionals[1], false);
  if (parsed.positionals.length !== 2 || !source?.reference || !target?.reference || target.reference.includes(':')) {
    io.stderr(`berth: ${usage}\n`);
    return 2;
  }
  return withRegistry(io, async (registry) => {
    const result = await registry.transfer.promotion.promote(
      {
        source: { repository: source.name, reference: source.reference as string },
        target: { repository: target.name, tag: target.reference as string },
        referrers: parsed.values.referrers === true,
      },
      {},
    );
    io.stdout(`${JSON.stringify(result)}\n`);
  });
}

/** Runs `work` on a registry built from the configuration; the exit code as the other commands give it. */
async function withRegistry(io: CliIo, work: (registry: Registry) => Promise<void>): Promise<number> {
  let registry: Registry | undefined;
  try {
    registry = await createRegistry(loadConfig(io.env), createLogger('warn'));
    await work(registry);
    return 0;
  } catch (err) {
    return exitCode(err, io);
  } finally {
    await registry?.close();
  }
}

function exitCode(err: unknown, io: CliIo): number {
  if (err instanceof ConfigError) {
    io.stderr(`berth: ${err.message}\n`);
    return 2;
  }
  if (err instanceof DomainError || (err as NodeJS.ErrnoException).code === 'ENOENT') {
    io.stderr(`berth: ${(err as Error).message}\n`);
    return 1;
  }
  throw err;
}
