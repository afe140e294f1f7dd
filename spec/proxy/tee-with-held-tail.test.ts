import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { teeWithHeldTail } from '../../src/proxy/tee-with-held-tail';

/** Reads a stream to its end, or to the error that destroyed it. */
async function drain(stream: Readable): Promise<{ bytes: Buffer; error: Error | null }> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
    return { bytes: Buffer.concat(chunks), error: null };
  } catch (err) {
    return { bytes: Buffer.concat(chunks), error: err as Error };
  }
}

/** A consumer like a monolithic upload: reads everything, then accepts or rejects. */
function storageThatChecks(storage: PassThrough, accept: (bytes: Buffer) => boolean): Promise<void> {
  return drain(storage).then(({ bytes, error }) => {
    if (error) throw error;
    if (!accept(bytes)) throw new Error('digest mismatch');
  });
}

const pieces = () => [Buffer.from('one '), Buffer.from('two '), Buffer.from('three')];

describe('teeWithHeldTail', () => {
  it('gives both sides every byte once storage accepts them', async () => {
    const storage = new PassThrough();
    const client = new PassThrough();
    const committed = storageThatChecks(storage, () => true);
    const got = drain(client);
    let counted = 0;
    await teeWithHeldTail(Readable.from(pieces()), storage, client, committed, (n) => (counted += n));
    expect((await got).bytes.toString()).toBe('one two three');
    expect(counted).toBe(13);
  });

  it('holds the last chunk back and destroys the client when storage rejects the bytes', async () => {
    const storage = new PassThrough();
    const client = new PassThrough();
    const committed = storageThatChecks(storage, () => false);
    const got = drain(client);
    await expect(teeWithHeldTail(Readable.from(pieces()), storage, client, committed, () => undefined)).rejects.toThrow('digest mismatch');
    const seen = await got;
    expect(seen.error).not.toBeNull();
    expect(seen.bytes.toString()).toBe('one two ');
  });

  it('an upstream that breaks off fails storage and the client', async () => {
    const source = new Readable({ read() {} });
    source.push(Buffer.from('partial'));
    setTimeout(() => source.destroy(new Error('connection reset')), 20);
    const storage = new PassThrough();
    const client = new PassThrough();
    const committed = storageThatChecks(storage, () => true);
    const got = drain(client);
    await expect(teeWithHeldTail(source, storage, client, committed, () => undefined)).rejects.toThrow('connection reset');
    expect((await got).error).not.toBeNull();
  });

  it('gives up on an upstream that stalls', async () => {
    const source = new Readable({ read() {} });
    source.push(Buffer.from('then nothing'));
    const storage = new PassThrough();
    const committed = storageThatChecks(storage, () => true);
    await expect(teeWithHeldTail(source, storage, null, committed, () => undefined, 50)).rejects.toThrow('sent nothing');
  });

  it('lets a client that stops reading go, and storage still gets everything', async () => {
    const big = Array.from({ length: 64 }, (_, i) => Buffer.alloc(64 * 1024, i));
    const storage = new PassThrough();
    const client = new PassThrough();
    let stored = '';
    const committed = drain(storage).then(({ bytes }) => void (stored = createHash('sha256').update(bytes).digest('hex')));
    await teeWithHeldTail(Readable.from(big), storage, client, committed, () => undefined, 60_000, 50);
    expect(client.destroyed).toBe(true);
    expect(stored).toBe(createHash('sha256').update(Buffer.concat(big)).digest('hex'));
  });
});
