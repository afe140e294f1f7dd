import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { AddressGuard } from '../../src/outbound/address-guard';
import { HookConnections, postToHook } from '../../src/webhooks/hook-request';

/**
 * A raw HTTP/1.1 receiver on 127.0.0.1 that counts connections and, when told, resets a kept-alive connection as the
 * next request arrives on it (what a receiver closing an idle connection looks like to a request already sent).
 */
class RawReceiver {
  connections = 0;
  requests = 0;
  /** Requests on a reused connection that are answered with a reset instead (counted down). */
  resetReused = 0;
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((socket) => {
      this.connections++;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      let served = 0;
      let buffered = '';
      socket.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('latin1');
        for (;;) {
          const end = buffered.indexOf('\r\n\r\n');
          if (end < 0) return;
          const length = Number(/content-length: *(\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
          if (buffered.length < end + 4 + length) return;
          buffered = buffered.slice(end + 4 + length);
          if (served > 0 && this.resetReused > 0) {
            this.resetReused--;
            socket.resetAndDestroy();
            return;
          }
          served++;
          this.requests++;
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=5\r\n\r\nok');
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

describe('hook requests', () => {
  let receiver: RawReceiver;
  let connections: HookConnections;
  let url: string;
  const guard = new AddressGuard('127.0.0.1');
  beforeEach(async () => {
    receiver = new RawReceiver();
    url = await receiver.start();
    connections = new HookConnections();
  });
  afterEach(async () => {
    connections.destroy();
    await receiver.close();
  });

  const post = async () =>
    postToHook(await guard.check(url), { 'Content-Type': 'application/json' }, Buffer.from('{}'), 5_000, connections);

  it('sends one attempt after another over one kept-alive connection', async () => {
    for (let i = 0; i < 20; i++) expect((await post()).statusCode).toBe(200);
    expect(receiver.requests).toBe(20);
    expect(receiver.connections).toBe(1);
  });

  it('opens no more connections than attempts in flight at once', async () => {
    for (let round = 0; round < 5; round++) {
      const answers = await Promise.all(Array.from({ length: 4 }, () => post()));
      expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200]);
    }
    expect(receiver.requests).toBe(20);
    expect(receiver.connections).toBe(4);
  });

  it('sends again on a new connection when a kept-alive one is reset before any answer', async () => {
    expect((await post()).statusCode).toBe(200);
    receiver.resetReused = 1;
    const answer = await post();
    expect(answer).toMatchObject({ statusCode: 200, body: 'ok' });
    expect(receiver.connections).toBe(2);
    expect(receiver.requests).toBe(2);
  });

  it('reports a reset of a new connection as the failed attempt it is, without sending again', async () => {
    let accepted = 0;
    const server = createServer((socket) => {
      accepted++;
      socket.once('data', () => socket.resetAndDestroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const resetting = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const answer = await postToHook(await guard.check(resetting), {}, Buffer.from('{}'), 5_000, connections);
      expect(answer).toMatchObject({ statusCode: 0, status: 'ECONNRESET' });
      expect(accepted).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
