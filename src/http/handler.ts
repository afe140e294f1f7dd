import type { Request, Response } from 'express';
import type { RouteMatch, RouteName } from './routes';

/** A route's handler for one method: it translates HTTP to a service call and back, nothing more. */
export type Handler = (req: Request, res: Response, match: Required<Pick<RouteMatch, 'route'>> & RouteMatch) => Promise<void>;

export type RouteHandlers = Partial<Record<RouteName, Partial<Record<string, Handler>>>>;

/** Query parameters as single strings (repeated ones keep the first). */
export function queryParam(req: Request, key: string): string | undefined {
  const value = (req.query as Record<string, unknown>)[key];
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

/** Every value of a repeatable query parameter (`?tag=a&tag=b`), in order. */
export function queryParams(req: Request, key: string): string[] {
  const value = (req.query as Record<string, unknown>)[key];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** Whether the request carries a body (a declared length above zero, or chunked encoding). */
export function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

/**
 * Reads a small body (manifests) into memory, refusing more than `limit`
 * bytes as they arrive. A refused body keeps flowing (and is discarded) so
 * the client, still sending, can read the error instead of a reset.
 */
export function readLimitedBody(req: Request, limit: number, onTooLarge: () => Error): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) return Promise.reject(onTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      total += chunk.length;
      if (total > limit) {
        refused = true;
        chunks.length = 0;
        reject(onTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!refused) resolve(Buffer.concat(chunks, total));
    });
    req.on('error', (err) => {
      if (!refused) reject(err);
    });
  });
}

/** Sends a stream as the response body; a client that goes away is not an error worth a 500. */
export async function sendStream(res: Response, body: NodeJS.ReadableStream & { destroy(): void }): Promise<void> {
  // The client may have gone while the blob was being looked up and opened: its 'close' has
  // then fired already, so release the body (an open file) now rather than at garbage collection.
  if (res.destroyed || res.closed) {
    body.destroy();
    return;
  }
  await new Promise<void>((resolve) => {
    const finish = () => resolve();
    res.on('close', () => {
      body.destroy();
      finish();
    });
    body.on('error', (err: Error) => {
      res.destroy(err);
      finish();
    });
    body.pipe(res);
  });
}
