import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { HttpApp } from '../../src/http/app';

/** A request the upstream saw: method and path (query dropped), and the status it answered once it has. */
export interface SeenRequest {
  method: string;
  path: string;
  status?: number;
}

/** A registry app (or any listener) on a loopback port, counting what it is asked; stoppable and restartable. */
export interface CountingUpstream {
  url: string;
  seen: SeenRequest[];
  /** How many requests matched `method` and a path ending in `suffix`. */
  count(method: string, suffix: string): number;
  /** How many of those were answered with `status` (a 401 challenge before a token is not a fetch). */
  countAnswered(method: string, suffix: string, status: number): number;
  stop(): Promise<void>;
  /** Listens again on the same port. */
  resume(): Promise<void>;
}

export async function startCountingUpstream(app: HttpApp | http.RequestListener): Promise<CountingUpstream> {
  const seen: SeenRequest[] = [];
  const options: http.ServerOptions =
    'IncomingMessage' in app ? { IncomingMessage: app.IncomingMessage, ServerResponse: app.ServerResponse } : {};
  const sockets = new Set<Socket>();
  const server = http.createServer(options, (req, res) => {
    const request: SeenRequest = { method: req.method ?? '', path: (req.url ?? '').split('?')[0]! };
    seen.push(request);
    res.on('finish', () => (request.status = res.statusCode));
    app(req, res);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    count: (method, suffix) => seen.filter((r) => r.method === method && r.path.endsWith(suffix)).length,
    countAnswered: (method, suffix, status) =>
      seen.filter((r) => r.method === method && r.path.endsWith(suffix) && r.status === status).length,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    resume: () => listen(port),
  };
}
