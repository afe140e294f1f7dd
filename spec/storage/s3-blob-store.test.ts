import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import request from 'supertest';
import { createLogger } from '../../src/log';
import { openSqliteStores } from '../support/sqlite-stores';
import { createRegistry } from '../../src/composition-root';
import { UploadService } from '../../src/registry/upload-service';
import { MemoryUploadSessionStore } from '../../src/sessions/memory/memory-upload-session-store';
import { S3BlobStore, S3_MIN_PART_SIZE } from '../../src/storage/s3/s3-blob-store';
import { blobStoreContract } from '../contracts/blob-store.contract';
import { requiredEnv, testS3Client } from '../support/scale-out';
import { testConfig } from '../support/registry';

const MiB = 1024 * 1024;
const bucket = () => requiredEnv('S3_BUCKET');

/** Each store gets a key prefix of its own in the shared bucket: a fresh, empty store. */
function newStore(client: S3Client, prefix = `spec-${randomUUID()}/`): S3BlobStore {
  return new S3BlobStore(client, { bucket: bucket(), prefix, partSize: S3_MIN_PART_SIZE });
}

const clients = new Map<S3BlobStore, S3Client>();
blobStoreContract('s3', {
  capabilities: { copyTo: false, listBlobs: true },
  async create() {
    const client = testS3Client();
    const store = newStore(client);
    clients.set(store, client);
    return store;
  },
  async destroy(store) {
    clients.get(store as S3BlobStore)?.destroy();
  },
});

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Bytes that differ everywhere, so a misplaced part cannot go unnoticed. */
function pattern(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeUInt32LE(x >>> 0, Math.min(i, size - 4));
  }
  return out;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('S3BlobStore on a real S3 server', () => {
  let client: S3Client;
  let prefix: string;
  let store: S3BlobStore;
  let dir: string;
  let sqlite: Awaited<ReturnType<typeof openSqliteStores>>;

  /** An upload service as one replica would run it: sessions shared through `sessions`. */
  const service = (sessions: MemoryUploadSessionStore, sessionTtlMs = 60_000) =>
    new UploadService(store, sessions, sqlite.index, createLogger('silent'), {
      sessionTtlMs,
      hashing: 'session',
    });

  async function multipartUploads(): Promise<string[]> {
    const out = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket(), Prefix: prefix }));
    return (out.Uploads ?? []).map((u) => u.Key ?? '');
  }
  async function stagedKeys(): Promise<string[]> {
    const out = await client.send(new ListObjectsV2Command({ Bucket: bucket(), Prefix: `${prefix}uploads/` }));
    return (out.Contents ?? []).map((o) => o.Key ?? '');
  }

  beforeEach(async () => {
    client = testS3Client();
    prefix = `spec-${randomUUID()}/`;
    store = newStore(client, prefix);
    dir = mkdtempSync(path.join(os.tmpdir(), 'berth-s3-'));
    sqlite = await openSqliteStores(path.join(dir, 'berth.db'));
  });
  afterEach(async () => {
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
    client.destroy();
  });

  it('takes chunks under 5 MiB, across part boundaries, continued by a new service each time', async () => {
    const sessions = new MemoryUploadSessionStore();
    // 1 MiB + 3 bytes per chunk: parts fill across chunks, and every chunk leaves an odd tail.
    const sizes = [MiB + 3, MiB + 3, MiB + 3, MiB + 3, MiB + 3, MiB + 3, 700, MiB + 3, 5];
    const data = pattern(
      sizes.reduce((a, b) => a + b, 0),
      7,
    );
    const s = await service(sessions).start('r/s3');
    let offset = 0;
    for (const size of sizes) {
      // Another replica for every chunk: no process-local hash survives, and S3 parts cannot be re-read.
      const replica = service(sessions);
      const after = await replica.append('r/s3', s.id, Readable.from([data.subarray(offset, offset + size)]), {
        start: offset,
        end: offset + size - 1,
      });
      offset += size;
      expect(after.offset).toBe(offset);
      expect(await store.uploadSize(s.id)).toBe(offset);
    }
    expect(await multipartUploads()).toHaveLength(1); // more than 5 MiB staged: parts exist
    await expect(store.readUpload(s.id, offset)).rejects.toThrow('cannot be read back');

    const digest = sha256(data);
    expect(await service(sessions).complete('r/s3', s.id, digest)).toBe(digest);
    expect(await store.stat(digest)).toBe(data.length);
    expect(sha256(await readAll(await store.openRead(digest)))).toBe(digest);
    const range = { start: 5 * MiB - 10, end: 5 * MiB + 9 };
    expect((await readAll(await store.openRead(digest, range))).equals(data.subarray(range.start, range.end + 1))).toBe(true);
    expect(await multipartUploads()).toEqual([]);
    expect(await stagedKeys()).toEqual([]);
  });

  it('refuses a wrong digest and keeps the upload, then commits the right one', async () => {
    const sessions = new MemoryUploadSessionStore();
    const data = pattern(6 * MiB + 1, 3);
    const s = await service(sessions).start('r/s3');
    await service(sessions).append('r/s3', s.id, Readable.from([data]));
    await expect(service(sessions).complete('r/s3', s.id, sha256(Buffer.from('other')))).rejects.toThrow('digest');
    expect(await store.stat(sha256(data))).toBeNull();
    expect(await service(sessions).complete('r/s3', s.id, sha256(data))).toBe(sha256(data));
    expect(await store.stat(sha256(data))).toBe(data.length);
  });

  it('aborts the multipart upload when the upload is cancelled', async () => {
    const sessions = new MemoryUploadSessionStore();
    const uploads = service(sessions);
    const s = await uploads.start('r/s3');
    await uploads.append('r/s3', s.id, Readable.from([pattern(7 * MiB, 1)]));
    expect(await multipartUploads()).toHaveLength(1);
    expect((await stagedKeys()).length).toBeGreaterThan(0);
    await uploads.cancel('r/s3', s.id);
    expect(await multipartUploads()).toEqual([]);
    expect(await stagedKeys()).toEqual([]);
  });

  it('aborts the multipart upload when the session expires', async () => {
    const sessions = new MemoryUploadSessionStore();
    // The TTL's passing is given to the purge as its clock: a short real TTL expired mid-append under load.
    const uploads = service(sessions, 60_000);
    const s = await uploads.start('r/s3');
    await uploads.append('r/s3', s.id, Readable.from([pattern(6 * MiB, 2)]));
    expect(await uploads.purgeStale(Date.now())).toBe(0); // not idle long enough yet
    expect(await multipartUploads()).toHaveLength(1);
    expect(await uploads.purgeStale(Date.now() + 120_000)).toBe(1);
    expect(await sessions.get(s.id)).toBeNull();
    expect(await multipartUploads()).toEqual([]);
    expect(await stagedKeys()).toEqual([]);
  });

  it('aborts a multipart upload left without its session or state (a crash) as an orphan', async () => {
    const sessions = new MemoryUploadSessionStore();
    const uploads = service(sessions, 60_000);
    const s = await uploads.start('r/s3');
    await uploads.append('r/s3', s.id, Readable.from([pattern(6 * MiB, 4)]));
    await sessions.delete(s.id); // the session is gone; staged data and the multipart upload are not
    expect(await multipartUploads()).toHaveLength(1);
    expect(await uploads.purgeStale(Date.now() + 120_000)).toBe(1);
    expect(await multipartUploads()).toEqual([]);
    expect(await stagedKeys()).toEqual([]);
  });

  it('leaves the upload as it was when a chunk fails midway, and resumes from there', async () => {
    const sessions = new MemoryUploadSessionStore();
    const data = pattern(13 * MiB, 9);
    const s = await service(sessions).start('r/s3');
    await service(sessions).append('r/s3', s.id, Readable.from([data.subarray(0, 2 * MiB)]));
    let sent = false;
    const failing = new Readable({
      read() {
        if (!sent) {
          sent = true;
          this.push(data.subarray(2 * MiB, 9 * MiB)); // one whole part goes to S3 before the failure
        } else {
          this.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
        }
      },
    });
    await expect(service(sessions).append('r/s3', s.id, failing)).rejects.toThrow('aborted');
    const status = await service(sessions).status('r/s3', s.id);
    expect(status.offset).toBe(2 * MiB);
    await service(sessions).append('r/s3', s.id, Readable.from([data.subarray(2 * MiB)]), {
      start: 2 * MiB,
      end: data.length - 1,
    });
    expect(await service(sessions).complete('r/s3', s.id, sha256(data))).toBe(sha256(data));
    expect(sha256(await readAll(await store.openRead(sha256(data))))).toBe(sha256(data));
  });

  it('hands out pre-signed URLs only when redirecting, and they honour ranges', async () => {
    const data = pattern(64 * 1024, 5);
    const id = randomUUID();
    await store.createUpload(id);
    const sink = await store.openWrite(id, 0);
    await new Promise<void>((resolve, reject) => sink.end(data, () => resolve()).on('error', reject));
    await store.commitUpload(id, sha256(data));
    expect(await store.readUrl(sha256(data))).toBeNull();

    const redirecting = new S3BlobStore(client, { bucket: bucket(), prefix, partSize: S3_MIN_PART_SIZE, redirect: true });
    const url = await redirecting.readUrl(sha256(data));
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/.*X-Amz-Signature=/);
    const whole = await fetch(url!);
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer()).equals(data)).toBe(true);
    const part = await fetch(url!, { headers: { Range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(data.subarray(100, 200))).toBe(true);
    // The server checks the signature: a tampered URL is refused.
    const forged = await fetch(url!.replace(/X-Amz-Signature=[0-9a-f]/, (m) => m.slice(0, -1) + (m.endsWith('0') ? '1' : '0')));
    expect(forged.status).toBe(403);
  });
});

describe('Berth configured with S3 and S3_REDIRECT', () => {
  it('answers blob GETs with 307 to a pre-signed URL, HEAD from the index, and the URL serves the blob', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'berth-s3-http-'));
    const registry = await createRegistry(
      testConfig(dataDir, {
        s3: {
          bucket: bucket(),
          endpoint: requiredEnv('S3_ENDPOINT'),
          region: process.env.S3_REGION ?? 'us-east-1',
          accessKeyId: requiredEnv('S3_ACCESS_KEY_ID'),
          secretAccessKey: requiredEnv('S3_SECRET_ACCESS_KEY'),
          forcePathStyle: true,
          redirect: true,
          prefix: `spec-${randomUUID()}/`,
        },
      }),
      createLogger('silent'),
    );
    try {
      const http = request(registry.app);
      const data = pattern(10_000, 11);
      const digest = sha256(data);
      await http.post(`/v2/r/s3/blobs/uploads/?digest=${digest}`).set('Content-Type', 'application/octet-stream').send(data).expect(201);
      const head = await http.head(`/v2/r/s3/blobs/${digest}`).expect(200);
      expect(head.headers['content-length']).toBe(String(data.length));
      const get = await http.get(`/v2/r/s3/blobs/${digest}`).expect(307);
      const location = get.headers.location as string;
      expect(location).toContain('X-Amz-Signature=');
      const fetched = await fetch(location);
      expect(Buffer.from(await fetched.arrayBuffer()).equals(data)).toBe(true);
      // Unknown blobs are still Berth's 404, not a redirect.
      await http.get(`/v2/r/s3/blobs/${sha256(Buffer.from('nope'))}`).expect(404);
    } finally {
      await registry.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
