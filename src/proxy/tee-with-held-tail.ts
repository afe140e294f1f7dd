import type { PassThrough, Readable, Writable } from 'node:stream';

/**
 * Copies `source` into `storage` and, while it stays connected, `client`, at the pace of the slower of
 * the two. The client is always one chunk behind: its last chunk is sent only once `committed` (the
 * digest check and commit of what storage received) has succeeded; if it fails, the client's stream is
 * destroyed instead, so a client never receives a complete blob that Berth did not verify. A client
 * that goes away leaves the copy into storage running (other pulls wait for it).
 */
export async function teeWithHeldTail(
  source: Readable,
  storage: PassThrough,
  client: PassThrough | null,
  committed: Promise<unknown>,
  onBytes: (bytes: number) => void,
  /** An upstream that sends nothing for this long is given up on (the lease would otherwise be held for good). */
  stallMs = 60_000,
  /** A client that takes nothing for this long is let go, so it cannot hold up the copy others wait for. */
  clientStallMs = 30_000,
): Promise<void> {
  let stall: NodeJS.Timeout | undefined;
  const watch = () => {
    clearTimeout(stall);
    stall = setTimeout(() => source.destroy(new Error(`the upstream sent nothing for ${stallMs} ms`)), stallMs);
  };
  watch();
  let settled = false;
  const whenSettled = committed.then(
    () => void (settled = true),
    () => void (settled = true),
  );
  let held: Buffer | null = null;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      // Only the wait for the upstream counts: not the waits for a slow client or storage below.
      clearTimeout(stall);
      onBytes(chunk.length);
      // Storage gave up (its own error, answered through `committed`): stop reading the upstream.
      if (settled) break;
      if (!storage.write(chunk)) await Promise.race([drained(storage), whenSettled]);
      if (client && !client.destroyed) {
        if (held && !client.write(held)) {
          const gaveUp = await Promise.race([drained(client).then(() => false), whenSettled.then(() => false), delay(clientStallMs)]);
          if (gaveUp) client.destroy(new Error(`the client took nothing for ${clientStallMs} ms`));
        }
        held = chunk;
      }
      watch();
    }
    storage.end();
  } catch (err) {
    // The upstream broke off: storage's stream fails the upload, which then keeps nothing.
    storage.destroy(err as Error);
  } finally {
    clearTimeout(stall);
    source.destroy();
  }
  try {
    await committed;
  } catch (err) {
    client?.destroy(err as Error);
    throw err;
  }
  if (client && !client.destroyed) client.end(held ?? undefined);
}

/** Resolves true after `ms`, without keeping the process alive. */
function delay(ms: number): Promise<boolean> {
  return new Promise((resolve) => setTimeout(() => resolve(true), ms).unref());
}

/** Resolves when `stream` can take more, or will never again (closed or failed). */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}
