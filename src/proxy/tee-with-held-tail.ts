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
): Promise<void> {
  let settled = false;
  const whenSettled = committed.then(
    () => void (settled = true),
    () => void (settled = true),
  );
  let held: Buffer | null = null;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      onBytes(chunk.length);
      // Storage gave up (its own error, answered through `committed`): stop reading the upstream.
      if (settled) break;
      if (!storage.write(chunk)) await Promise.race([drained(storage), whenSettled]);
      if (client && !client.destroyed) {
        if (held && !client.write(held)) await Promise.race([drained(client), whenSettled]);
        held = chunk;
      }
    }
    storage.end();
  } catch (err) {
    // The upstream broke off: storage's stream fails the upload, which then keeps nothing.
    storage.destroy(err as Error);
  } finally {
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
