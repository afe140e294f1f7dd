import http from 'node:http';
import type { Socket } from 'node:net';
import { listenAddress, type Config } from './config';
import type { Logger } from './log';
import { createRegistry, type RegistryOptions } from './composition-root';

export interface RunningServer {
  server: http.Server;
  url: string;
  stop(): Promise<void>;
}

/** Starts Berth: the registry, its HTTP listener and the upload purge timer. */
export async function startServer(config: Config, log: Logger, options: RegistryOptions = {}): Promise<RunningServer> {
  const registry = await createRegistry(config, log, options);
  const server = http.createServer(
    {
      keepAliveTimeout: 65_000,
      requestTimeout: 0,
      IncomingMessage: registry.app.IncomingMessage,
      ServerResponse: registry.app.ServerResponse,
    },
    registry.app,
  );
  // Multi-GB chunks stream for minutes; idle sockets are still reaped by keepAliveTimeout.
  server.headersTimeout = 60_000;
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const { host, port } = listenAddress(config.addr);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;

  const purge = setInterval(() => {
    registry.uploads
      .purgeStale()
      .then((n) => n > 0 && log.info({ purged: n }, 'purged stale uploads'))
      .catch((err: unknown) => log.error({ err }, 'upload purge failed'));
  }, config.uploads.purgeIntervalSeconds * 1000);
  purge.unref();

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(purge);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => {
        // Chunks cut off here stay resumable: what reached disk is kept.
        for (const s of sockets) s.destroy();
      }, config.shutdownGraceSeconds * 1000);
      grace.unref();
      await closed;
      clearTimeout(grace);
      await registry.close();
    })();
    return stopping;
  };
  return { server, url, stop };
}
