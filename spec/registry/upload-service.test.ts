import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createLogger } from '../../src/log';
import { openTestStores, type TestStores } from '../support/test-stores';
import type { MetadataIndex } from '../../src/metadata/metadata-index';
import type { UploadSessionStore } from '../../src/sessions/upload-session-store';
import { DigestMismatch, UploadRangeInvalid, UploadUnknown } from '../../src/registry/errors';
import { UploadService } from '../../src/registry/upload-service';
import type { BlobStore } from '../../src/storage/blob-store';

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A body that delivers `good` and then fails, as a socket does when the client goes away. */
function cutOff(good: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(good);
      } else {
        this.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
      }
    },
  });
}

describe('UploadService', () => {
  let stores: TestStores;
  let blobs: BlobStore;
  let index: MetadataIndex;
  let sessions: UploadSessionStore;
  const make = (on: TestStores = stores) =>
    new UploadService(on.blobs, on.sessions, on.index, createLogger('silent'), { sessionTtlMs: 60_000 });

  beforeEach(async () => {
    stores = await openTestStores({}, 'berth-uploads-');
    ({ blobs, index, sessions } = stores);
  });
  afterEach(() => stores.close());

  it('keeps the bytes of an interrupted chunk staged on the filesystem and resumes from them', async () => {
    // S3 keeps nothing of a cut part under 5 MiB (spec/storage/s3-blob-store.test.ts covers its resume).
    const staged = await openTestStores({ s3: undefined }, 'berth-uploads-fs-');
    try {
      const uploads = make(staged);
      const data = Buffer.from('a'.repeat(1000) + 'b'.repeat(1000));
      const s = await uploads.start('r/x');
      await expect(uploads.append('r/x', s.id, cutOff(data.subarray(0, 700)))).rejects.toThrow('aborted');
      const status = await uploads.status('r/x', s.id);
      expect(status.offset).toBe(700);
      await uploads.append('r/x', s.id, Readable.from([data.subarray(700)]), { start: 700, end: data.length - 1 });
      expect(await uploads.complete('r/x', s.id, sha256(data))).toBe(sha256(data));
      expect(await staged.index.linkedBlobSize('r/x', sha256(data))).toBe(data.length);
    } finally {
      await staged.close();
    }
  });

  it('verifies after a restart by re-hashing what is staged (no cached hash state)', async () => {
    const data = Buffer.from('resume me after a crash');
    const first = make();
    const s = await first.start('r/x');
    await first.append('r/x', s.id, Readable.from([data.subarray(0, 10)]));
    const second = make(); // a new process: nothing cached
    await second.append('r/x', s.id, Readable.from([data.subarray(10)]), { start: 10, end: data.length - 1 });
    expect(await second.complete('r/x', s.id, sha256(data))).toBe(sha256(data));
  });

  it('refuses a chunk that does not start at the offset, keeping the session usable', async () => {
    const uploads = make();
    const s = await uploads.start('r/x');
    await uploads.append('r/x', s.id, Readable.from([Buffer.from('12345')]));
    const err = await uploads.append('r/x', s.id, Readable.from([Buffer.from('x')]), { start: 3, end: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UploadRangeInvalid);
    // Where to resume from (the edge turns it into 416 with Range: 0-4; spec/http/error-mapping.test.ts).
    expect((err as UploadRangeInvalid).position).toEqual({ repository: 'r/x', uploadId: s.id, offset: 5 });
    expect((await uploads.status('r/x', s.id)).offset).toBe(5);
  });

  it('never links a blob whose digest does not match, and accepts the right digest afterwards', async () => {
    const uploads = make();
    const data = Buffer.from('the real content');
    const s = await uploads.start('r/x');
    await uploads.append('r/x', s.id, Readable.from([data]));
    const wrong = sha256(Buffer.from('something else'));
    await expect(uploads.complete('r/x', s.id, wrong)).rejects.toBeInstanceOf(DigestMismatch);
    expect(await blobs.stat(wrong)).toBeNull();
    expect(await blobs.stat(sha256(data))).toBeNull();
    expect(await index.linkedBlobSize('r/x', sha256(data))).toBeNull();
    expect(await uploads.complete('r/x', s.id, sha256(data))).toBe(sha256(data));
  });

  it('verifies sha512 digests by re-hashing the staged bytes', async () => {
    const uploads = make();
    const data = Buffer.from('sha512 content');
    const digest = `sha512:${createHash('sha512').update(data).digest('hex')}`;
    expect(await uploads.monolithic('r/x', digest, Readable.from([data]))).toBe(digest);
    expect(await index.linkedBlobSize('r/x', digest)).toBe(data.length);
  });

  it('a failed monolithic upload leaves no session and no staged data', async () => {
    const uploads = make();
    await expect(uploads.monolithic('r/x', sha256(Buffer.from('x')), Readable.from([Buffer.from('y')]))).rejects.toBeInstanceOf(
      DigestMismatch,
    );
    expect(await blobs.listUploads()).toEqual([]);
    expect(await sessions.listStale(Date.now() + 1000, 10)).toEqual([]);
  });

  it('scopes sessions to their repository', async () => {
    const uploads = make();
    const s = await uploads.start('r/x');
    await expect(uploads.status('r/other', s.id)).rejects.toBeInstanceOf(UploadUnknown);
  });

  it('purges idle sessions with their data, and orphaned staged data', async () => {
    const uploads = make();
    const idle = await uploads.start('r/x');
    await uploads.append('r/x', idle.id, Readable.from([Buffer.from('abandoned')]));
    await blobs.createUpload('orphan-without-session');
    const later = Date.now() + 120_000;
    expect(await uploads.purgeStale(later)).toBe(2);
    expect(await blobs.listUploads()).toEqual([]);
    await expect(uploads.status('r/x', idle.id)).rejects.toBeInstanceOf(UploadUnknown);
  });

  it('lets only one request write to an upload at a time', async () => {
    const uploads = make();
    const s = await uploads.start('r/x');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = false;
    const slow = new Readable({
      read() {
        if (started) return;
        started = true;
        this.push(Buffer.from('first'));
        void gate.then(() => this.push(null));
      },
    });
    const first = uploads.append('r/x', s.id, slow);
    await new Promise((r) => setTimeout(r, 50));
    const second = await uploads.append('r/x', s.id, Readable.from([Buffer.from('second')])).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(UploadRangeInvalid);
    release();
    expect((await first).offset).toBe(5);
  });
});
