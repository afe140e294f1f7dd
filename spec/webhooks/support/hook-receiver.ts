import { execFile } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

export interface ReceivedHook {
  headers: IncomingHttpHeaders;
  /** The raw body, as signed. */
  body: string;
}

/**
 * A webhook receiver on 127.0.0.1: records every request and answers with the next scripted
 * status (200 once the script runs out).
 */
export class HookReceiver {
  readonly received: ReceivedHook[] = [];
  /** How long each answer waits (a slow receiver). */
  delayMs = 0;
  /** The most requests that were open at one time. */
  maxOpen = 0;
  private open = 0;
  private readonly answers: Array<{ status: number; headers?: Record<string, string> }> = [];
  private waiters: Array<() => void> = [];
  private server: Server | undefined;

  /** Listens on 127.0.0.1 (`port`, or any free one); returns the hook URL. */
  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      this.maxOpen = Math.max(this.maxOpen, ++this.open);
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const answer = this.answers.shift() ?? { status: 200 };
        setTimeout(() => {
          this.open--;
          this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
          res.writeHead(answer.status, { 'Content-Type': 'text/plain', ...answer.headers }).end(`answered ${answer.status}`);
          for (const w of this.waiters.splice(0)) w();
        }, this.delayMs);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  /** The next requests are answered with these statuses. */
  answerWith(...answers: Array<number | { status: number; headers?: Record<string, string> }>): void {
    this.answers.push(...answers.map((a) => (typeof a === 'number' ? { status: a } : a)));
  }

  /** Resolves once `count` requests arrived in all; fails after `timeoutMs`. */
  async waitFor(count: number, timeoutMs = 10_000): Promise<ReceivedHook[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} hook requests, got ${this.received.length}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
    return this.received.slice(0, count);
  }

  ofEvent(event: string): ReceivedHook[] {
    return this.received.filter((r) => r.headers['x-github-event'] === event);
  }

  async close(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

/**
 * Every signature checked by GitHub's own code (@octokit/webhooks-methods `verify`, ESM-only,
 * hence a child process): the list of results, true where the signature matched.
 */
export async function verifySignatures(secret: string, received: readonly ReceivedHook[]): Promise<boolean[]> {
  const script = path.join(__dirname, 'verify-signatures.mjs');
  const input = JSON.stringify({
    secret,
    deliveries: received.map((r) => ({ body: r.body, signature: r.headers['x-hub-signature-256'] ?? '' })),
  });
  const child = promisify(execFile)(process.execPath, [script], { timeout: 30_000 });
  child.child.stdin?.end(input);
  const { stdout } = await child;
  return JSON.parse(stdout) as boolean[];
}
