import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createLogger } from '../../src/log';
import { openTestStores, type TestStores } from '../support/test-stores';
import type { UploadSessionStore } from '../../src/sessions/upload-session-store';
import { UploadService } from '../../src/registry/upload-service';
import type { HashingMode } from '../../src/registry/upload-hasher';
import type { BlobStore } from '../../src/storage/blob-store';
import { DigestMismatch } from '../../src/registry/errors';

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Each `replica()` is a new UploadService: nothing of the others' process-local state survives. */
describe('UploadService hash state kept with the session', () => {
  let stores: TestStores;
  let blobs: BlobStore;
  let sessions: UploadSessionStore;
  let rereads: jest.SpyInstance;
  const replica = (hashing: HashingMode) =>
    new UploadService(blobs, sessions, stores.index, createLogger('silent'), { sessionTtlMs: 60_000, hashing });
  const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));
  const chunk = (from: number, to: number) => Readable.from([data.subarray(from, to)]);

  beforeEach(async () => {
    // Blobs on the filesystem whatever the backend: process mode reads staged bytes back, which S3 parts cannot give.
    stores = await openTestStores({ s3: undefined }, 'berth-hash-state-');
    ({ blobs, sessions } = stores);
    rereads = jest.spyOn(blobs, 'readUpload');
  });
  afterEach(() => stores.close());

  it('session mode: chunks continued and completed by other replicas never re-read staged bytes', async () => {
    const s = await replica('session').start('r/x');
    await replica('session').append('r/x', s.id, chunk(0, 100_000));
    await replica('session').append('r/x', s.id, chunk(100_000, 250_000), { start: 100_000, end: 249_999 });
    expect((await sessions.get(s.id))?.hashState).toMatch(/^v1;250000;[0-9a-f]{64};[A-Za-z0-9+/=]+$/);
    expect(await replica('session').complete('r/x', s.id, sha256(data), chunk(250_000, data.length))).toBe(sha256(data));
    expect(rereads).not.toHaveBeenCalled();
  });

  it('process mode: a bodiless PUT on another replica is verified from the saved digest, without a re-read', async () => {
    const s = await replica('process').start('r/x');
    await replica('process').append('r/x', s.id, chunk(0, data.length));
    expect(await replica('process').complete('r/x', s.id, sha256(data))).toBe(sha256(data));
    expect(rereads).not.toHaveBeenCalled();
  });

  it('process mode: a further chunk on another replica re-hashes the staged bytes once', async () => {
    const s = await replica('process').start('r/x');
    await replica('process').append('r/x', s.id, chunk(0, 1000));
    const other = replica('process');
    await other.append('r/x', s.id, chunk(1000, 2000), { start: 1000, end: 1999 });
    expect(rereads).toHaveBeenCalledTimes(1);
    await other.append('r/x', s.id, chunk(2000, data.length), { start: 2000, end: data.length - 1 });
    expect(await other.complete('r/x', s.id, sha256(data))).toBe(sha256(data));
    expect(rereads).toHaveBeenCalledTimes(1);
  });

  it('reports the staged bytes it reads back through onRehash, and none when the saved state continues', async () => {
    const counted: number[] = [];
    const counting = (hashing: HashingMode) =>
      new UploadService(blobs, sessions, stores.index, createLogger('silent'), {
        sessionTtlMs: 60_000,
        hashing,
        onRehash: (bytes) => counted.push(bytes),
      });
    const p = await counting('process').start('r/x');
    await counting('process').append('r/x', p.id, chunk(0, 1000));
    await counting('process').append('r/x', p.id, chunk(1000, 2000), { start: 1000, end: 1999 });
    expect(counted).toEqual([1000]);
    const s = await counting('session').start('r/y');
    await counting('session').append('r/y', s.id, chunk(0, 1000));
    await counting('session').append('r/y', s.id, chunk(1000, 2000), { start: 1000, end: 1999 });
    expect(counted).toEqual([1000]);
  });

  it('falls back on re-hashing when the saved state is unusable, and still verifies', async () => {
    const s = await replica('session').start('r/x');
    await replica('session').append('r/x', s.id, chunk(0, 5000));
    const saved = (await sessions.get(s.id))!;
    // A state from another version (or damaged) and a digest that does not match: neither may be trusted blindly.
    await sessions.setOffset(s.id, saved.offset, saved.updatedAt, `v2;5000;${'0'.repeat(64)};AAAA`);
    await replica('session').append('r/x', s.id, chunk(5000, data.length), { start: 5000, end: data.length - 1 });
    expect(rereads).toHaveBeenCalledTimes(1);
    expect(await replica('session').complete('r/x', s.id, sha256(data))).toBe(sha256(data));
  });

  it('ignores a saved digest recorded for another offset, and refuses a wrong digest', async () => {
    const s = await replica('process').start('r/x');
    await replica('process').append('r/x', s.id, chunk(0, 4000));
    const saved = (await sessions.get(s.id))!;
    // Say the digest was for 3999 bytes: it no longer describes what is staged.
    await sessions.setOffset(s.id, saved.offset, saved.updatedAt, saved.hashState!.replace('v1;4000;', 'v1;3999;'));
    await expect(replica('process').complete('r/x', s.id, sha256(data))).rejects.toBeInstanceOf(DigestMismatch);
    expect(rereads).toHaveBeenCalledTimes(1);
    expect(await replica('process').complete('r/x', s.id, sha256(data.subarray(0, 4000)))).toBe(sha256(data.subarray(0, 4000)));
  });
});
