import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobNotFoundError, type BlobStore } from '../../src/storage/blob-store';

export interface BlobStoreHarness {
  /** A fresh, empty store. */
  create(): Promise<BlobStore>;
  destroy(store: BlobStore): Promise<void>;
  /** Optional capabilities the driver offers; the cases of one it lacks show as skipped. */
  capabilities: { copyTo: boolean; listBlobs: boolean };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function write(store: BlobStore, id: string, offset: number, data: Buffer): Promise<void> {
  await pipeline(Readable.from([data]), await store.openWrite(id, offset));
}

function digestOf(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

let counter = 0;
function uploadId(): string {
  counter += 1;
  return `upload-${process.pid}-${Date.now()}-${counter}`;
}

/** The BlobStore contract: every driver (fs, s3) runs exactly this suite. */
export function blobStoreContract(driver: string, harness: BlobStoreHarness): void {
  describe(`BlobStore contract: ${driver}`, () => {
    let store: BlobStore;
    beforeEach(async () => {
      store = await harness.create();
    });
    afterEach(async () => {
      await harness.destroy(store);
    });

    it('stages chunks, commits them under the digest and serves them back', async () => {
      const a = Buffer.from('hello, ');
      const b = Buffer.from('world');
      const all = Buffer.concat([a, b]);
      const id = uploadId();
      await store.createUpload(id);
      expect(await store.uploadSize(id)).toBe(0);
      await write(store, id, 0, a);
      expect(await store.uploadSize(id)).toBe(a.length);
      await write(store, id, a.length, b);
      expect(await store.uploadSize(id)).toBe(all.length);
      expect(await readAll(await store.readUpload(id, all.length))).toEqual(all);
      expect(await readAll(await store.readUpload(id, 3))).toEqual(all.subarray(0, 3));
      expect(await readAll(await store.readUpload(id, all.length, 3))).toEqual(all.subarray(3));
      expect(await readAll(await store.readUpload(id, 9, 9))).toEqual(Buffer.alloc(0));

      const digest = digestOf(all);
      expect(await store.stat(digest)).toBeNull();
      await store.commitUpload(id, digest);
      expect(await store.stat(digest)).toBe(all.length);
      expect(await readAll(await store.openRead(digest))).toEqual(all);
      expect(await store.uploadSize(id)).toBeNull();
    });

    it('serves byte ranges, inclusive at both ends', async () => {
      const data = Buffer.from('0123456789abcdef');
      const id = uploadId();
      await store.createUpload(id);
      await write(store, id, 0, data);
      const digest = digestOf(data);
      await store.commitUpload(id, digest);
      expect((await readAll(await store.openRead(digest, { start: 0, end: 0 }))).toString()).toBe('0');
      expect((await readAll(await store.openRead(digest, { start: 10, end: 15 }))).toString()).toBe('abcdef');
      expect((await readAll(await store.openRead(digest, { start: 4, end: 7 }))).toString()).toBe('4567');
    });

    it('never exposes staged bytes under a digest before commit', async () => {
      const data = Buffer.from('not yet');
      const id = uploadId();
      await store.createUpload(id);
      await write(store, id, 0, data);
      const digest = digestOf(data);
      expect(await store.stat(digest)).toBeNull();
      await expect(store.openRead(digest)).rejects.toBeInstanceOf(BlobNotFoundError);
    });

    it('aborts uploads and forgets them; aborting twice is harmless', async () => {
      const id = uploadId();
      await store.createUpload(id);
      await write(store, id, 0, Buffer.from('discard me'));
      await store.abortUpload(id);
      expect(await store.uploadSize(id)).toBeNull();
      await store.abortUpload(id);
      expect((await store.listUploads()).map((u) => u.id)).not.toContain(id);
    });

    it('lists staged uploads with their modification time', async () => {
      const id = uploadId();
      const before = Date.now() - 5_000;
      await store.createUpload(id);
      const listed = (await store.listUploads()).find((u) => u.id === id);
      expect(listed).toBeDefined();
      expect(listed!.modifiedAt).toBeGreaterThanOrEqual(before);
    });

    it('rewrites from the offset when a chunk is retried, dropping bytes past it', async () => {
      const id = uploadId();
      await store.createUpload(id);
      await write(store, id, 0, Buffer.from('abcdef'));
      await write(store, id, 3, Buffer.from('XYZ!'));
      expect(await store.uploadSize(id)).toBe(7);
      expect((await readAll(await store.readUpload(id, 7))).toString()).toBe('abcXYZ!');
    });

    it('committing a digest that already exists keeps one intact blob', async () => {
      const data = Buffer.from('same bytes twice');
      const digest = digestOf(data);
      for (let i = 0; i < 2; i++) {
        const id = uploadId();
        await store.createUpload(id);
        await write(store, id, 0, data);
        await store.commitUpload(id, digest);
      }
      expect(await store.stat(digest)).toBe(data.length);
      expect(await readAll(await store.openRead(digest))).toEqual(data);
    });

    it('deletes blobs; a missing blob is not an error', async () => {
      const data = Buffer.from('short-lived');
      const id = uploadId();
      await store.createUpload(id);
      await write(store, id, 0, data);
      const digest = digestOf(data);
      await store.commitUpload(id, digest);
      await store.delete(digest);
      expect(await store.stat(digest)).toBeNull();
      await store.delete(digest);
      await expect(store.openRead(digest)).rejects.toBeInstanceOf(BlobNotFoundError);
    });

    describe('listBlobs (for drivers that offer it)', () => {
      const itLists = harness.capabilities.listBlobs ? it : it.skip;

      it('offers listBlobs exactly when the harness declares it', () => {
        expect(typeof store.listBlobs === 'function').toBe(harness.capabilities.listBlobs);
      });

      itLists('lists every committed blob with its size, and no staged upload', async () => {
        if (!store.listBlobs) throw new Error(`${driver} declares listBlobs but has none`);
        const committed = new Map<string, number>();
        for (const text of ['one', 'two', 'three']) {
          const data = Buffer.from(`listed-${text}`);
          const id = uploadId();
          await store.createUpload(id);
          await write(store, id, 0, data);
          await store.commitUpload(id, digestOf(data));
          committed.set(digestOf(data), data.length);
        }
        const staged = uploadId();
        await store.createUpload(staged);
        await write(store, staged, 0, Buffer.from('not committed'));
        const before = Date.now();
        const listed = new Map<string, number>();
        for await (const page of store.listBlobs()) {
          for (const blob of page) {
            listed.set(blob.digest, blob.size);
            expect(blob.modifiedAt).toBeLessThanOrEqual(before + 5_000);
          }
        }
        expect(listed).toEqual(committed);
      });
    });

    it('streams a multi-chunk upload of several MiB without loss', async () => {
      const id = uploadId();
      await store.createUpload(id);
      const hash = createHash('sha256');
      let offset = 0;
      for (let i = 0; i < 4; i++) {
        const chunk = Buffer.alloc(3 * 1024 * 1024 + i, i + 1);
        hash.update(chunk);
        await write(store, id, offset, chunk);
        offset += chunk.length;
      }
      const digest = `sha256:${hash.digest('hex')}`;
      await store.commitUpload(id, digest);
      const back = createHash('sha256');
      for await (const c of await store.openRead(digest)) back.update(c as Buffer);
      expect(`sha256:${back.digest('hex')}`).toBe(digest);
      expect(await store.stat(digest)).toBe(offset);
    });

    describe('copyTo (for drivers that offer it)', () => {
      const itCopies = harness.capabilities.copyTo ? it : it.skip;

      it('offers copyTo exactly when the harness declares it', async () => {
        expect(typeof store.copyTo === 'function').toBe(harness.capabilities.copyTo);
      });

      /** A slow destination that keeps copies of what it was given, as a socket would have sent them. */
      function collector(): { sink: Writable; bytes(): Buffer; writes(): number } {
        const parts: Buffer[] = [];
        const sink = new Writable({
          highWaterMark: 1,
          write(chunk: Buffer, _enc, done) {
            // Like a socket, the bytes count as sent only when acknowledged, a little later: a driver
            // that reused a buffer before the acknowledgement would corrupt what is read here.
            setTimeout(() => {
              parts.push(Buffer.from(chunk));
              done();
            }, 1);
          },
        });
        return { sink, bytes: () => Buffer.concat(parts), writes: () => parts.length };
      }

      async function commit(data: Buffer): Promise<string> {
        const id = uploadId();
        await store.createUpload(id);
        await write(store, id, 0, data);
        const digest = digestOf(data);
        await store.commitUpload(id, digest);
        return digest;
      }

      itCopies('writes exactly the bytes openRead serves, whole and in ranges, across many chunks', async () => {
        if (!store.copyTo) throw new Error(`${driver} declares copyTo but has none`);
        const data = Buffer.alloc(5 * 1024 * 1024 + 123);
        for (let i = 0; i + 4 <= data.length; i += 4) data.writeUInt32LE(i, i);
        const digest = await commit(data);
        for (const range of [
          undefined,
          { start: 0, end: 0 },
          { start: 1000, end: 3 * 1024 * 1024 },
          { start: data.length - 7, end: data.length - 1 },
        ]) {
          const c = collector();
          await store.copyTo(digest, c.sink, range);
          const expected = range ? data.subarray(range.start, range.end + 1) : data;
          expect(c.bytes().equals(expected)).toBe(true);
          expect(c.sink.writableEnded).toBe(false);
        }
      });

      itCopies(
        'writes a large blob (64 MiB and more, copied in bigger chunks) byte for byte',
        async () => {
          if (!store.copyTo) throw new Error(`${driver} declares copyTo but has none`);
          const data = Buffer.alloc(64 * 1024 * 1024 + 4099);
          for (let i = 0; i + 4 <= data.length; i += 4) data.writeUInt32LE(i ^ 0x5a5a5a5a, i);
          const digest = await commit(data);
          const c = collector();
          await store.copyTo(digest, c.sink);
          expect(digestOf(c.bytes())).toBe(digest);
        },
        60_000,
      );

      itCopies('refuses a missing blob before writing anything', async () => {
        if (!store.copyTo) throw new Error(`${driver} declares copyTo but has none`);
        const c = collector();
        await expect(store.copyTo(digestOf(Buffer.from('never stored')), c.sink)).rejects.toBeInstanceOf(BlobNotFoundError);
        expect(c.writes()).toBe(0);
      });

      itCopies('stops, rejecting, when the destination is destroyed mid-copy', async () => {
        if (!store.copyTo) throw new Error(`${driver} declares copyTo but has none`);
        const digest = await commit(Buffer.alloc(8 * 1024 * 1024, 7));
        let written = 0;
        const sink = new Writable({
          write(chunk: Buffer, _enc, done) {
            written += chunk.length;
            if (written > 1024 * 1024) sink.destroy();
            setImmediate(done);
          },
        });
        await expect(store.copyTo(digest, sink)).rejects.toThrow();
        expect(written).toBeLessThan(8 * 1024 * 1024);
      });
    });
  });
}
