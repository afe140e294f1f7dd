// Runs Berth as a child process for end-to-end tests.
//
//   BERTH_ADDR=127.0.0.1:<port> BERTH_DATA=<dir> node dist/cli.js serve
//
// Each instance gets a free loopback port and (unless given one) a fresh temp data dir; restart()
// reuses both, so upload URLs handed out before a restart stay valid. Every instance started here is
// registered and stopped by stopAll() (call it in afterAll) and, as a last resort, SIGKILLed when
// the jest worker exits.
//
// BERTH_E2E_SERVER=distribution spawns CNCF Distribution (`docker-registry serve`) instead, as a
// reference implementation; BERTH_E2E_URL makes openServer() use an already-running server.
import { spawn, ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import http from 'node:http';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const BERTH_CLI = process.env.BERTH_E2E_CLI ?? path.join(REPO_ROOT, 'dist', 'cli.js');
const IMPL = process.env.BERTH_E2E_SERVER ?? 'berth';
// Generous: a loaded machine starts slowly; reached only by a server that never answers.
const READY_TIMEOUT_MS = Number(process.env.BERTH_E2E_READY_MS ?? 60_000);
const STOP_TIMEOUT_MS = 10_000;
const KEEP = process.env.BERTH_E2E_KEEP === '1';

export interface StartOptions {
  /** Use this data dir (kept afterwards) instead of a fresh temp dir (removed afterwards). */
  dataDir?: string;
  /** Extra environment for the child. */
  env?: Record<string, string>;
}

const live = new Set<BerthProcess>();

process.on('exit', () => {
  for (const p of live) p.killSync();
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** One GET /v2/ with a short timeout: the status, or undefined when nothing answered. */
function probe(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get(`${url}/v2/`, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

export class BerthProcess {
  readonly port: number;
  readonly dataDir: string;
  readonly url: string;
  private readonly ownsDataDir: boolean;
  private readonly workDir: string;
  private readonly env: Record<string, string>;
  private child?: ChildProcess;
  private exited?: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private starts = 0;
  private expectingExit = false;
  /** Set when the server exited without being told to (a crash); reported by dispose(). */
  crashed?: string;

  private constructor(port: number, dataDir: string, ownsDataDir: boolean, workDir: string, env: Record<string, string>) {
    this.port = port;
    this.dataDir = dataDir;
    this.ownsDataDir = ownsDataDir;
    this.workDir = workDir;
    this.env = env;
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Starts a server and waits until GET /v2/ answers 200. */
  static async start(opts: StartOptions = {}): Promise<BerthProcess> {
    if (IMPL === 'berth' && !fs.existsSync(BERTH_CLI)) {
      throw new Error(`${BERTH_CLI} does not exist: run \`npm run build\` first (or set BERTH_E2E_CLI)`);
    }
    let lastError: unknown;
    // A port found free can be taken before the child binds it; retry with another one.
    for (let attempt = 0; attempt < 3; attempt++) {
      const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-e2e-'));
      const dataDir = opts.dataDir ?? path.join(workDir, 'data');
      fs.mkdirSync(dataDir, { recursive: true });
      const p = new BerthProcess(await freePort(), dataDir, opts.dataDir === undefined, workDir, opts.env ?? {});
      live.add(p);
      try {
        await p.launch();
        return p;
      } catch (err) {
        lastError = err;
        await p.dispose().catch(() => undefined);
        if (!/EADDRINUSE|address already in use/i.test(String(err))) break;
      }
    }
    throw lastError;
  }

  get pid(): number {
    if (!this.child?.pid) throw new Error('server is not running');
    return this.child.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get logFile(): string {
    return path.join(this.workDir, `server-${this.starts}.log`);
  }

  /** The last `n` characters of the current server log. */
  logTail(n = 4000): string {
    try {
      const s = fs.readFileSync(this.logFile, 'utf8');
      return s.slice(-n);
    } catch {
      return '';
    }
  }

  private command(): { cmd: string; args: string[]; env: Record<string, string> } {
    const addr = `127.0.0.1:${this.port}`;
    if (IMPL === 'distribution') {
      const cfg = path.join(this.workDir, 'distribution.yml');
      fs.writeFileSync(
        cfg,
        [
          'version: 0.1',
          'log: {level: warn}',
          'storage:',
          `  filesystem: {rootdirectory: ${JSON.stringify(this.dataDir)}}`,
          '  delete: {enabled: true}',
          `http: {addr: "${addr}"}`,
          '',
        ].join('\n'),
      );
      return { cmd: 'docker-registry', args: ['serve', cfg], env: {} };
    }
    if (IMPL !== 'berth') throw new Error(`unknown BERTH_E2E_SERVER=${IMPL}`);
    // These checks are about the registry API, so Berth runs in its open mode; auth has its own suites.
    return { cmd: process.execPath, args: [BERTH_CLI, 'serve'], env: { BERTH_ADDR: addr, BERTH_DATA: this.dataDir, BERTH_AUTH: 'none' } };
  }

  private async launch(): Promise<void> {
    this.starts++;
    const { cmd, args, env } = this.command();
    const log = fs.openSync(this.logFile, 'w');
    const child = spawn(cmd, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env, ...this.env },
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    this.child = child;
    this.expectingExit = false;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (!this.expectingExit && !this.crashed) {
          this.crashed = `server pid ${child.pid} exited on its own (code ${code}, signal ${signal}); log tail:\n${this.logTail()}`;
        }
        resolve({ code, signal });
      });
      child.once('error', () => resolve({ code: -1, signal: null }));
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    void this.exited.then((e) => (exitInfo = e));
    while (Date.now() < deadline) {
      if (exitInfo) {
        throw new Error(
          `server exited before answering GET /v2/ (code ${exitInfo.code}, signal ${exitInfo.signal}); log:\n${this.logTail()}`,
        );
      }
      const status = await probe(this.url);
      if (status !== undefined) {
        if (status !== 200) throw new Error(`GET ${this.url}/v2/ answered ${status}, expected 200; log:\n${this.logTail()}`);
        return;
      }
      await sleep(50);
    }
    this.killSync();
    throw new Error(`server did not answer GET ${this.url}/v2/ within ${READY_TIMEOUT_MS} ms; log:\n${this.logTail()}`);
  }

  /** SIGTERM, then wait for the exit; fails (after a SIGKILL) if it takes longer than 10 s. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.child || !this.exited) throw new Error('server was never started');
    if (!this.running) return this.exited;
    this.expectingExit = true;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS);
    });
    const r = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (r === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exited;
      throw new Error(`server (pid ${this.child.pid}) did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM; log:\n${this.logTail()}`);
    }
    return r;
  }

  /** SIGKILL (kill -9) and wait until the process is gone. */
  async kill9(): Promise<void> {
    if (!this.child || !this.exited) throw new Error('server was never started');
    this.expectingExit = true;
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Stops the server if it still runs (SIGTERM) and starts it again on the same port and data dir. */
  async restart(): Promise<void> {
    if (this.running) await this.stop();
    await this.launch();
  }

  killSync(): void {
    this.expectingExit = true;
    if (this.running) {
      try {
        this.child!.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }

  /** Stops the server (SIGTERM, SIGKILL if needed) and removes its temp dirs. */
  async dispose(): Promise<void> {
    try {
      if (this.running) await this.stop().catch(() => this.kill9());
    } finally {
      live.delete(this);
      if (KEEP) {
        console.log(`BERTH_E2E_KEEP: server files kept in ${this.workDir}${this.ownsDataDir ? '' : ` and ${this.dataDir}`}`);
      } else {
        fs.rmSync(this.workDir, { recursive: true, force: true });
      }
    }
    if (this.crashed) throw new Error(this.crashed);
  }
}

/** Stops every server started in this test file; call from afterAll. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.dispose()));
}

export interface ServerHandle {
  url: string;
  /** The child process, or undefined when BERTH_E2E_URL points at an external server. */
  process?: BerthProcess;
  close(): Promise<void>;
}

/** BERTH_E2E_URL if set, else a freshly started server. */
export async function openServer(): Promise<ServerHandle> {
  const external = process.env.BERTH_E2E_URL;
  if (external) return { url: external.replace(/\/+$/, ''), close: async () => {} };
  const p = await BerthProcess.start();
  return { url: p.url, process: p, close: () => p.dispose() };
}
