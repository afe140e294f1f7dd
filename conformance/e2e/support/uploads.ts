// Helpers for chunked / interrupted uploads with streamed bodies.
import http from 'node:http';
import { Client, Reply, check, drainOrClose, expectStatus, header, parseUploadRange } from './http';
import { patternChunks } from './data';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** PATCH pattern bytes [start, end) to `location`, streamed, with Content-Range; asserts 202 and the new Range. */
export async function patchRange(
  client: Client,
  location: string,
  seed: number,
  start: number,
  end: number,
): Promise<{ location: string; reply: Reply }> {
  const r = await client.request('PATCH', location, {
    headers: {
      'Content-Type': 'application/octet-stream',
      'Content-Range': `${start}-${end - 1}`,
      'Content-Length': end - start,
    },
    body: patternChunks(seed, start, end),
  });
  expectStatus(r, 202);
  check(r, parseUploadRange(r) === end - 1, `Range after PATCH is not 0-${end - 1}`);
  const loc = header(r, 'location');
  check(r, !!loc, 'PATCH 202 without Location');
  return { location: client.resolve(loc!).toString(), reply: r };
}

/** GET the upload status; asserts 204 with Location and Range "0-<end>"; returns the bytes received (end+1) and the Location. */
export async function uploadStatus(client: Client, location: string): Promise<{ received: number; location: string; reply: Reply }> {
  const r = await client.get(location);
  expectStatus(r, 204);
  const loc = header(r, 'location');
  check(r, !!loc, 'upload status 204 without Location');
  const end = parseUploadRange(r);
  return { received: end + 1, location: client.resolve(loc!).toString(), reply: r };
}

/**
 * Waits until no request is writing to the upload any more (say, a PATCH the client cut, which the
 * server notices in its own time), then returns what it kept. The probe is an empty PATCH: it needs the
 * upload's lock, so it is refused with 416 while another request holds it and answered 202 with the
 * final Range once the server has saved the cut chunk's bytes and let go. Polls; `boundMs` only stops
 * a server that never lets go.
 */
export async function whenUploadIdle(
  client: Client,
  location: string,
  boundMs = 60_000,
): Promise<{ received: number; location: string; reply: Reply }> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const r = await client.request('PATCH', location, { headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': 0 } });
    if (r.status !== 416 || Date.now() >= deadline) {
      expectStatus(r, 202);
      const loc = header(r, 'location');
      check(r, !!loc, 'PATCH 202 without Location');
      return { received: parseUploadRange(r) + 1, location: client.resolve(loc!).toString(), reply: r };
    }
    await sleep(100);
  }
}

export interface Interrupted {
  /** Bytes of the body written to the socket before the interruption (an upper bound on what the server got). */
  written: number;
  /** The response, if the server answered anyway. */
  status?: number;
  error?: string;
}

/**
 * Starts a PATCH declaring pattern bytes [start, end) and streams them slowly; once `stopAfter` bytes
 * are written (and had `settleMs` to arrive), calls `interrupt` (which destroys the socket or kills
 * the server) and waits for the request to die.
 */
export async function interruptedPatch(opts: {
  client: Client;
  location: string;
  seed: number;
  start: number;
  end: number;
  stopAfter: number;
  settleMs?: number;
  interrupt: (req: http.ClientRequest) => Promise<void> | void;
}): Promise<Interrupted> {
  const url = opts.client.resolve(opts.location);
  const result: Interrupted = { written: 0 };
  const req = http.request(url, {
    method: 'PATCH',
    agent: false,
    headers: {
      'Content-Type': 'application/octet-stream',
      'Content-Range': `${opts.start}-${opts.end - 1}`,
      'Content-Length': opts.end - opts.start,
    },
  });
  const finished = new Promise<void>((resolve) => {
    req.on('response', (res) => {
      result.status = res.statusCode;
      res.resume();
      res.on('end', resolve);
      res.on('error', resolve);
    });
    req.on('error', (err) => {
      result.error = err.message;
      resolve();
    });
    req.on('close', () => setTimeout(resolve, 50));
  });
  let i = 0;
  for await (const chunk of patternChunks(opts.seed, opts.start, opts.end, 256 * 1024)) {
    if (req.destroyed || result.status !== undefined) break;
    if (!req.write(chunk)) await drainOrClose(req);
    result.written += chunk.length;
    // "Slowly": a pause every MiB keeps the server mid-body for a while.
    if (++i % 4 === 0) await sleep(5);
    if (result.written >= opts.stopAfter) break;
  }
  await sleep(opts.settleMs ?? 300);
  await opts.interrupt(req);
  await finished;
  return result;
}
