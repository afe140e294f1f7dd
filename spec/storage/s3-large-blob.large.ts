import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { S3BlobStore, S3_MAX_COPY_SIZE } from '../../src/storage/s3/s3-blob-store';
import { requiredEnv, testS3Client } from '../support/scale-out';

/**
 * Opt-in (`make test-s3-large`, not `make test`): a blob over 5 GiB, the
 * largest a single S3 copy can move, so committing it needs the multipart copy.
 */
const MiB = 1024 * 1024;
const SIZE = S3_MAX_COPY_SIZE + 3 * MiB + 17;

it(
  'commits a blob over 5 GiB (multipart copy) and serves it back whole and in ranges',
  async () => {
    const client = testS3Client();
    const prefix = `spec-large-${randomUUID()}/`;
    const store = new S3BlobStore(client, { bucket: requiredEnv('S3_BUCKET'), prefix });
    try {
      const block = randomBytes(MiB);
      const hash = createHash('sha256');
      let last20 = Buffer.alloc(0);
      function* bytes(): Generator<Buffer> {
        for (let at = 0, i = 0; at < SIZE; at += MiB, i++) {
          const piece = Buffer.from(block.subarray(0, Math.min(MiB, SIZE - at)));
          piece.writeUInt32LE(i, 0);
          hash.update(piece);
          last20 = Buffer.concat([last20, piece]).subarray(-20);
          yield piece;
        }
      }
      const id = randomUUID();
      await store.createUpload(id);
      // Two chunks, the first ending off a part boundary, as a client resuming would send them.
      const pieces = bytes();
      const first = 3 * 1024;
      await pipeline(
        Readable.from(
          (function* () {
            for (let i = 0; i < first; i++) yield pieces.next().value as Buffer;
          })(),
        ),
        await store.openWrite(id, 0),
      );
      expect(await store.uploadSize(id)).toBe(first * MiB);
      await pipeline(Readable.from(pieces), await store.openWrite(id, first * MiB));
      expect(await store.uploadSize(id)).toBe(SIZE);
      const digest = `sha256:${hash.digest('hex')}`;

      await store.commitUpload(id, digest);
      expect(await store.stat(digest)).toBe(SIZE);
      const left = await client.send(new ListMultipartUploadsCommand({ Bucket: requiredEnv('S3_BUCKET'), Prefix: prefix }));
      expect(left.Uploads ?? []).toEqual([]);

      const back = createHash('sha256');
      let size = 0;
      for await (const c of await store.openRead(digest)) {
        back.update(c as Buffer);
        size += (c as Buffer).length;
      }
      expect(size).toBe(SIZE);
      expect(`sha256:${back.digest('hex')}`).toBe(digest);
      // Across the 5 GiB mark and at the very end.
      const tail: Buffer[] = [];
      for await (const c of await store.openRead(digest, { start: SIZE - 20, end: SIZE - 1 })) tail.push(c as Buffer);
      expect(Buffer.concat(tail).equals(last20)).toBe(true);
      expect(last20.length).toBe(20);
      await store.delete(digest);
    } finally {
      client.destroy();
    }
  },
  60 * 60 * 1000,
);
