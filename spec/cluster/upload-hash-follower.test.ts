import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { UploadHashFollower } from '../../src/cluster/upload-hash-follower';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Staged uploads in memory, read in 64 KiB pieces as a file would be, every byte read counted. */
function stagedUploads() {
  const uploads = new Map<string, Buffer>();
  const reads: Array<{ id: string; start: number; end: number }> = [];
  let bytesRead = 0;
  const read = async (id: string, end: number, start: number) => {
    const staged = uploads.get(id);
    if (!staged || staged.length < end) throw new Error(`upload ${id} has no bytes up to ${end}`);
    reads.push({ id, start, end });
    const pieces: Buffer[] = [];
    for (let at = start; at < end; at += 65_536) pieces.push(staged.subarray(at, Math.min(end, at + 65_536)));
    bytesRead += end - start;
    return Readable.from(pieces);
  };
  return { uploads, reads, read, bytesRead: () => bytesRead };
}

describe('UploadHashFollower (the cluster primary hashing staged uploads)', () => {
  let follower: UploadHashFollower;
  afterEach(() => follower.close());

  it('answers the digest of every staged prefix, each byte read once, in order', async () => {
    const disk = stagedUploads();
    follower = new UploadHashFollower(disk.read, 60_000);
    const data = randomBytes(5 * 1024 * 1024 + 17);
    const chunk = 1024 * 1024;
    disk.uploads.set('u1', Buffer.alloc(0));
    for (let offset = chunk; offset < data.length + chunk; offset += chunk) {
      const end = Math.min(offset, data.length);
      disk.uploads.set('u1', data.subarray(0, end));
      follower.staged('u1', end);
      if (end === 3 * chunk) expect(await follower.digestAt('u1', end)).toEqual({ hex: sha256(data.subarray(0, end)), readBytes: end });
    }
    expect(await follower.digestAt('u1', data.length)).toEqual({ hex: sha256(data), readBytes: data.length });
    expect(disk.bytesRead()).toBe(data.length);
    // Each read starts where the one before ended.
    for (let i = 1; i < disk.reads.length; i++) expect(disk.reads[i]?.start).toBe(disk.reads[i - 1]?.end);
  });

  it('reads an upload it never saw from its start; cannot tell an offset it went past; starts again after forgetting', async () => {
    const disk = stagedUploads();
    follower = new UploadHashFollower(disk.read, 60_000);
    const data = randomBytes(4096);
    disk.uploads.set('u2', data);
    expect(await follower.digestAt('u2', 1024)).toEqual({ hex: sha256(data.subarray(0, 1024)), readBytes: 1024 });
    follower.staged('u2', 4096);
    expect((await follower.digestAt('u2', 4096))?.hex).toBe(sha256(data));
    expect(await follower.digestAt('u2', 1024)).toBeNull();
    expect(disk.bytesRead()).toBe(4096);

    follower.forget('u2');
    expect(await follower.digestAt('u2', 4096)).toEqual({ hex: sha256(data), readBytes: 4096 });
    expect(disk.bytesRead()).toBe(2 * 4096);
    expect(await follower.digestAt('unknown', 10)).toBeNull();
  });

  it('gives up on an upload whose bytes cannot be read (committed or cancelled meanwhile), and starts again if asked', async () => {
    const disk = stagedUploads();
    follower = new UploadHashFollower(disk.read, 60_000);
    disk.uploads.set('u3', randomBytes(100));
    follower.staged('u3', 200); // more than is there: the read fails
    expect(await follower.digestAt('u3', 200)).toBeNull();
    // Given up, then asked for what is there: read again from the start, not continued from a failed read.
    expect((await follower.digestAt('u3', 100))?.readBytes).toBe(100);
  });

  it('a report of an offset already hashed does not stall later digests (the conformance hang)', async () => {
    const disk = stagedUploads();
    follower = new UploadHashFollower(disk.read, 60_000);
    const data = randomBytes(3000);
    disk.uploads.set('u5', data.subarray(0, 1000));
    follower.staged('u5', 1000);
    expect((await follower.digestAt('u5', 1000))?.hex).toBe(sha256(data.subarray(0, 1000)));
    // Told again what it has hashed (a failed chunk that staged nothing new): nothing to read.
    follower.staged('u5', 1000);
    follower.staged('u5', 500);
    disk.uploads.set('u5', data);
    expect(await follower.digestAt('u5', 3000)).toEqual({ hex: sha256(data), readBytes: 3000 });
    expect(disk.bytesRead()).toBe(3000);
  });

  it('drops uploads idle past the session lifetime', async () => {
    const disk = stagedUploads();
    let now = 1_000_000;
    follower = new UploadHashFollower(disk.read, 50, () => now);
    const data = randomBytes(1000);
    disk.uploads.set('u4', data);
    follower.staged('u4', 1000);
    expect((await follower.digestAt('u4', 1000))?.hex).toBe(sha256(data));
    now += 1_000;
    await new Promise((resolve) => setTimeout(resolve, 120));
    // Dropped: asked again, it reads the upload from its start.
    expect(await follower.digestAt('u4', 1000)).toEqual({ hex: sha256(data), readBytes: 1000 });
    expect(disk.bytesRead()).toBe(2000);
  });
});
