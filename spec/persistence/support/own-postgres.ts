import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface, type Interface } from 'node:readline';

/** What conformance/services.sh can do to the server it started. */
export type PostgresFault = 'pg_down' | 'pg_up' | 'pg_freeze' | 'pg_thaw';

/**
 * A PostgreSQL of the test's own, started by conformance/services.sh's pg_start in a child bash
 * that stays alive to stop, restart, freeze and thaw it on request: a test that breaks its
 * server never disturbs the one the other suites share.
 */
export interface OwnPostgres {
  url: string;
  do(fault: PostgresFault): Promise<void>;
  /** Stops the server and removes its directory (pg_stop, from the child's EXIT trap). */
  stop(): Promise<void>;
}

const SCRIPT = `
  . "$1"
  trap pg_stop EXIT
  pg_start >&2 || exit 1
  echo "url $DATABASE_URL"
  while read -r command; do
    case $command in
      pg_down|pg_up|pg_freeze|pg_thaw) if $command >&2; then echo "done"; else echo "failed"; fi ;;
      *) echo "unknown $command" ;;
    esac
  done
`;

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const services = resolve(__dirname, '../../../conformance/services.sh');
  const child = spawn('bash', ['-c', SCRIPT, 'own-postgres', services], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const lines = createInterface({ input: child.stdout });
  const first = await nextLine(lines, child, () => stderr);
  if (!first.startsWith('url ')) throw new Error(`pg_start did not report a URL: ${first}\n${stderr}`);
  return {
    url: first.slice('url '.length),
    async do(fault) {
      child.stdin.write(`${fault}\n`);
      const answer = await nextLine(lines, child, () => stderr);
      if (answer !== 'done') throw new Error(`${fault}: ${answer}\n${stderr}`);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      child.stdin.end();
      await exited;
    },
  };
}

function nextLine(lines: Interface, child: ChildProcessWithoutNullStreams, stderr: () => string): Promise<string> {
  return new Promise((resolveLine, reject) => {
    const onExit = (code: number | null) => reject(new Error(`the services child exited (${code}): ${stderr()}`));
    child.once('exit', onExit);
    lines.once('line', (line) => {
      child.off('exit', onExit);
      resolveLine(line);
    });
  });
}
