import { randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  BlobNotFoundError,
  UploadNotFoundError,
  UploadNotReadableError,
  type BlobStore,
  type ByteRange,
  type StagedUpload,
  type StoredBlob,
} from '../blob-store';
import { asS3Fault, translateS3Faults } from './s3-faults';

const MiB = 1024 * 1024;
/** S3's rules: every part but the last at least 5 MiB, at most 5 GiB per part or single copy, 10,000 parts. */
export const S3_MIN_PART_SIZE = 5 * MiB;
export const S3_MAX_COPY_SIZE = 5 * 1024 * MiB;
const S3_MAX_PARTS = 10_000;

export interface S3BlobStoreOptions {
  bucket: string;
  /** Key prefix for everything this store writes, e.g. `registry/`. */
  prefix?: string;
  /**
   * Size of every uploaded part but the last (default 16 MiB: blobs up to
   * 156 GiB). The one part buffer a chunk in flight holds in memory.
   */
  partSize?: number;
  /** Size of each server-side copy part when a committed blob exceeds 5 GiB (default 1 GiB). */
  copyPartSize?: number;
  /** Hand out pre-signed GET URLs from `readUrl` (S3_REDIRECT). */
  redirect?: boolean;
  /** How long a pre-signed URL stays valid (default 15 minutes). */
  redirectExpiresSeconds?: number;
}

/** What an upload in progress consists of, kept beside it in the bucket. */
interface UploadState {
  /** The S3 multipart upload, created with the first full part. */
  multipartId: string | null;
  partSize: number;
  /** ETags of parts 1..n, each exactly partSize bytes. */
  etags: string[];
  /** The bytes after the last part (fewer than partSize), as a small object of their own. */
  tail: { key: string; size: number } | null;
}

/**
 * Blobs in an S3 bucket. Layout under the prefix:
 *
 *   blobs/<algorithm>/<hex>       committed blobs: written only by a copy or a completed multipart upload
 *   uploads/<id>/state            JSON UploadState: the upload's parts and tail
 *   uploads/<id>/data             the multipart upload's key (whole only during commit)
 *   uploads/<id>/tail-<n>-<uuid>  staged bytes after the last full part, one object per version
 *
 * PATCH chunks of any size: bytes collect in one bounded part buffer; each
 * full buffer becomes a multipart part; what is left when the chunk ends goes
 * to a small tail object, which the next chunk reads back into its buffer.
 * A chunk is staged atomically: the state object changes only once it ended
 * well, so an interrupted or crashed chunk leaves the upload as it was.
 *
 * Commit: the tail is copied in as the last part (server-side), the multipart
 * upload completed onto uploads/<id>/data, and that object copied to its
 * content address (a multipart copy over 5 GiB): the blob appears whole or not at all.
 */
export class S3BlobStore implements BlobStore {
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly copyPartSize: number;
  /** Part uploads still in flight after a chunk failed, by upload: the next writer waits for them. */
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(
    private readonly client: S3Client,
    private readonly options: S3BlobStoreOptions,
  ) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
    this.partSize = options.partSize ?? 16 * MiB;
    this.copyPartSize = options.copyPartSize ?? 1024 * MiB;
    // S3's 5xx, throttling and lost connections leave every method as typed storage faults.
    translateS3Faults(client);
    if (this.partSize < S3_MIN_PART_SIZE || this.partSize > S3_MAX_COPY_SIZE) {
      throw new Error(`S3 part size must be between 5 MiB and 5 GiB, not ${this.partSize}`);
    }
    if (this.copyPartSize < S3_MIN_PART_SIZE || this.copyPartSize > S3_MAX_COPY_SIZE) {
      throw new Error(`S3 copy part size must be between 5 MiB and 5 GiB, not ${this.copyPartSize}`);
    }
  }

  private blobKey(digest: string): string {
    const [algorithm, hex] = digest.split(':');
    if (!algorithm || !hex || !/^[a-z0-9]+$/.test(algorithm) || !/^[a-f0-9]+$/.test(hex)) {
      throw new Error(`not a canonical digest: ${digest}`);
    }
    return `${this.prefix}blobs/${algorithm}/${hex}`;
  }

  private uploadDir(uploadId: string): string {
    if (!/^[A-Za-z0-9-]+$/.test(uploadId)) throw new UploadNotFoundError(uploadId);
    return `${this.prefix}uploads/${uploadId}/`;
  }

  // ---- committed blobs ----

  async stat(digest: string): Promise<number | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.blobKey(digest) }));
      return head.ContentLength ?? 0;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async openRead(digest: string, range?: ByteRange): Promise<Readable> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.blobKey(digest),
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      return asReadable(out.Body);
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(digest);
      throw err;
    }
  }

  async delete(digest: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.blobKey(digest) }));
  }

  async readUrl(digest: string): Promise<string | null> {
    if (!this.options.redirect) return null;
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.blobKey(digest) }), {
      expiresIn: this.options.redirectExpiresSeconds ?? 900,
    });
  }

  /** The bucket exists and the credentials reach it (one HeadBucket). */
  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  // ---- uploads ----

  async createUpload(uploadId: string): Promise<void> {
    // The multipart upload itself starts with the first full part: small blobs never need one.
    await this.writeState(uploadId, { multipartId: null, partSize: this.partSize, etags: [], tail: null });
  }

  async uploadSize(uploadId: string): Promise<number | null> {
    await this.settled(uploadId);
    const state = await this.readState(uploadId);
    return state ? stagedSize(state) : null;
  }

  async openWrite(uploadId: string, offset: number): Promise<Writable> {
    await this.settled(uploadId);
    const state = await this.readState(uploadId);
    if (!state) throw new UploadNotFoundError(uploadId);
    const size = stagedSize(state);
    const partsBytes = state.etags.length * state.partSize;
    if (offset > size) throw new Error(`upload ${uploadId} has ${size} bytes staged; cannot write at ${offset}`);
    // Rewinding (a retried chunk) keeps whole parts and a prefix of the tail; parts cannot be cut.
    let keepTail = 0;
    let etags = state.etags;
    if (offset >= partsBytes) {
      keepTail = offset - partsBytes;
    } else if (offset % state.partSize === 0) {
      etags = state.etags.slice(0, offset / state.partSize);
    } else {
      throw new Error(`upload ${uploadId}: cannot rewind to ${offset}, inside an uploaded part`);
    }
    const buffer = Buffer.allocUnsafe(state.partSize);
    let filled = 0;
    if (keepTail > 0 && state.tail) {
      filled = await this.readInto(state.tail.key, keepTail, buffer);
    }
    return new PartWriter(this, uploadId, { ...state, etags: [...etags] }, buffer, filled);
  }

  async readUpload(uploadId: string, end: number, start = 0): Promise<Readable> {
    const state = await this.readState(uploadId);
    if (!state) throw new UploadNotFoundError(uploadId);
    if (end <= start) return Readable.from([]);
    // Parts of an incomplete multipart upload cannot be read; only a tail-only upload can.
    if (state.etags.length > 0 || !state.tail || end > state.tail.size) throw new UploadNotReadableError(uploadId);
    const out = await this.client.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: state.tail.key, Range: `bytes=${start}-${end - 1}` }),
    );
    return asReadable(out.Body);
  }

  async commitUpload(uploadId: string, digest: string): Promise<void> {
    await this.settled(uploadId);
    const state = await this.readState(uploadId);
    if (!state) throw new UploadNotFoundError(uploadId);
    const target = this.blobKey(digest);
    // Content-addressed: if the blob is there already, these bytes are the same bytes.
    if ((await this.stat(digest)) === null) {
      if (state.etags.length === 0) {
        if (state.tail) await this.copy(state.tail.key, target, state.tail.size);
        else await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: target, Body: Buffer.alloc(0) }));
      } else {
        const assembled = await this.completeMultipart(uploadId, state);
        await this.copy(assembled, target, stagedSize(state));
      }
    }
    await this.abortUpload(uploadId);
  }

  async abortUpload(uploadId: string): Promise<void> {
    const dir = this.uploadDir(uploadId);
    await this.settled(uploadId);
    // Every multipart upload under the upload's keys: the recorded one, and any a crash left unrecorded.
    for (const upload of await this.listMultipart(dir)) {
      await this.abortMultipart(upload.key, upload.id);
    }
    for (const key of await this.listKeys(dir)) {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    }
  }

  /** One page per ListObjectsV2 page under `blobs/`. */
  async *listBlobs(): AsyncIterable<StoredBlob[]> {
    const root = `${this.prefix}blobs/`;
    let token: string | undefined;
    for (let page = 0; page < 1_000_000; page++) {
      const out = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: root, ContinuationToken: token }));
      const blobs: StoredBlob[] = [];
      for (const o of out.Contents ?? []) {
        const m = o.Key ? /^([a-z0-9]+)\/([a-f0-9]+)$/.exec(o.Key.slice(root.length)) : null;
        if (m?.[1] && m[2]) blobs.push({ digest: `${m[1]}:${m[2]}`, size: o.Size ?? 0, modifiedAt: o.LastModified?.getTime() ?? 0 });
      }
      if (blobs.length > 0) yield blobs;
      if (!out.IsTruncated || !out.NextContinuationToken) break;
      token = out.NextContinuationToken;
    }
  }

  async listUploads(): Promise<StagedUpload[]> {
    const root = `${this.prefix}uploads/`;
    const found = new Map<string, number>();
    let token: string | undefined;
    for (let page = 0; page < 100_000; page++) {
      const out = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: root, ContinuationToken: token }));
      for (const o of out.Contents ?? []) {
        const m = o.Key ? /^([A-Za-z0-9-]+)\/state$/.exec(o.Key.slice(root.length)) : null;
        if (m?.[1]) found.set(m[1], o.LastModified?.getTime() ?? 0);
      }
      if (!out.IsTruncated || !out.NextContinuationToken) break;
      token = out.NextContinuationToken;
    }
    // A multipart upload whose state object is gone (a crash in abort) is staged data too.
    for (const upload of await this.listMultipart(root)) {
      const id = /^([A-Za-z0-9-]+)\//.exec(upload.key.slice(root.length))?.[1];
      if (id && !found.has(id)) found.set(id, upload.initiated);
    }
    return [...found].map(([id, modifiedAt]) => ({ id, modifiedAt }));
  }

  // ---- used by PartWriter ----

  /** Uploads one full part, starting the multipart upload first if needed; returns its ETag. */
  async uploadPart(uploadId: string, state: UploadState, body: Buffer): Promise<string> {
    const key = `${this.uploadDir(uploadId)}data`;
    if (!state.multipartId) {
      const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }));
      if (!created.UploadId) throw new Error('S3 CreateMultipartUpload returned no UploadId');
      state.multipartId = created.UploadId;
    }
    const upload = this.client.send(
      new UploadPartCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: state.multipartId,
        PartNumber: state.etags.length + 1,
        Body: body,
        ContentLength: body.length,
      }),
    );
    this.inflight.set(
      uploadId,
      upload.catch(() => undefined),
    );
    const out = await upload.finally(() => this.inflight.delete(uploadId));
    if (!out.ETag) throw new Error('S3 UploadPart returned no ETag');
    return out.ETag;
  }

  /** Ends a chunk: the rest of the buffer becomes the new tail, then the state names it. */
  async finishChunk(uploadId: string, state: UploadState, rest: Buffer, previousTail: string | null): Promise<void> {
    if (state.etags.length >= S3_MAX_PARTS) throw new Error(`upload ${uploadId} exceeds ${S3_MAX_PARTS} parts`);
    if (rest.length > 0) {
      const key = `${this.uploadDir(uploadId)}tail-${state.etags.length}-${randomUUID()}`;
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: rest, ContentLength: rest.length }));
      state.tail = { key, size: rest.length };
    } else {
      state.tail = null;
    }
    await this.writeState(uploadId, state);
    if (previousTail && previousTail !== state.tail?.key) {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: previousTail })).catch(() => undefined); // a leftover tail goes with the upload's keys at commit or abort
    }
  }

  // ---- internals ----

  private async settled(uploadId: string): Promise<void> {
    await this.inflight.get(uploadId);
  }

  private async readState(uploadId: string): Promise<UploadState | null> {
    let text: string;
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: `${this.uploadDir(uploadId)}state` }));
      text = await asReadable(out.Body)
        .toArray()
        .then((chunks) => Buffer.concat(chunks as Buffer[]).toString('utf8'));
    } catch (err) {
      if (isNotFound(err) || err instanceof UploadNotFoundError) return null;
      // A connection lost mid-body fails the stream, past the client's middleware.
      throw asS3Fault(err);
    }
    const parsed: unknown = JSON.parse(text);
    if (!isUploadState(parsed)) throw new Error(`upload ${uploadId}: unreadable state object`);
    return parsed;
  }

  private async writeState(uploadId: string, state: UploadState): Promise<void> {
    const body = JSON.stringify(state);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: `${this.uploadDir(uploadId)}state`,
        Body: body,
        ContentType: 'application/json',
      }),
    );
  }

  /** Reads the first `length` bytes of an object into `buffer`; returns the count. */
  private async readInto(key: string, length: number, buffer: Buffer): Promise<number> {
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=0-${length - 1}` }));
    let filled = 0;
    try {
      for await (const chunk of asReadable(out.Body)) {
        const c = chunk as Buffer;
        if (filled + c.length > length) throw new Error(`staged tail ${key} is longer than recorded`);
        c.copy(buffer, filled);
        filled += c.length;
      }
    } catch (err) {
      throw asS3Fault(err);
    }
    if (filled !== length) throw new Error(`staged tail ${key} is shorter than recorded`);
    return filled;
  }

  private async completeMultipart(uploadId: string, state: UploadState): Promise<string> {
    const key = `${this.uploadDir(uploadId)}data`;
    if (!state.multipartId) throw new Error(`upload ${uploadId} has parts but no multipart upload`);
    const parts: CompletedPart[] = state.etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 }));
    if (state.tail) {
      // The tail may be small: only the last part is allowed to be.
      const copied = await this.client.send(
        new UploadPartCopyCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: state.multipartId,
          PartNumber: parts.length + 1,
          CopySource: this.copySource(state.tail.key),
        }),
      );
      const etag = copied.CopyPartResult?.ETag;
      if (!etag) throw new Error('S3 UploadPartCopy returned no ETag');
      parts.push({ ETag: etag, PartNumber: parts.length + 1 });
    }
    await this.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: state.multipartId,
        MultipartUpload: { Parts: parts },
      }),
    );
    return key;
  }

  /** A server-side copy; over 5 GiB it has to be a multipart copy. */
  private async copy(source: string, target: string, size: number): Promise<void> {
    if (size <= S3_MAX_COPY_SIZE) {
      await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: target, CopySource: this.copySource(source) }));
      return;
    }
    const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: target }));
    const multipartId = created.UploadId;
    if (!multipartId) throw new Error('S3 CreateMultipartUpload returned no UploadId');
    try {
      const parts: CompletedPart[] = [];
      for (let start = 0, n = 1; start < size; start += this.copyPartSize, n++) {
        const end = Math.min(start + this.copyPartSize, size) - 1;
        const out = await this.client.send(
          new UploadPartCopyCommand({
            Bucket: this.bucket,
            Key: target,
            UploadId: multipartId,
            PartNumber: n,
            CopySource: this.copySource(source),
            CopySourceRange: `bytes=${start}-${end}`,
          }),
        );
        const etag = out.CopyPartResult?.ETag;
        if (!etag) throw new Error('S3 UploadPartCopy returned no ETag');
        parts.push({ ETag: etag, PartNumber: n });
      }
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: target,
          UploadId: multipartId,
          MultipartUpload: { Parts: parts },
        }),
      );
    } catch (err) {
      await this.abortMultipart(target, multipartId);
      throw err;
    }
  }

  private copySource(key: string): string {
    return `${this.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  private async abortMultipart(key: string, multipartId: string): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: multipartId }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async listMultipart(prefix: string): Promise<Array<{ key: string; id: string; initiated: number }>> {
    const found: Array<{ key: string; id: string; initiated: number }> = [];
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    for (let page = 0; page < 100_000; page++) {
      const out = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: this.bucket,
          Prefix: prefix,
          KeyMarker: keyMarker,
          UploadIdMarker: idMarker,
        }),
      );
      for (const u of out.Uploads ?? []) {
        if (u.Key && u.UploadId) found.push({ key: u.Key, id: u.UploadId, initiated: u.Initiated?.getTime() ?? 0 });
      }
      if (!out.IsTruncated) break;
      keyMarker = out.NextKeyMarker;
      idMarker = out.NextUploadIdMarker;
    }
    return found;
  }

  private async listKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < 100_000; page++) {
      const out = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key);
      if (!out.IsTruncated || !out.NextContinuationToken) break;
      token = out.NextContinuationToken;
    }
    return keys;
  }
}

/**
 * The sink of one chunk: fills the part buffer, uploads each full one as a
 * part, and on a good end stages the rest as the tail and records the state.
 * On failure nothing is recorded, so the upload stays as it was before the chunk.
 */
class PartWriter extends Writable {
  private readonly previousTail: string | null;

  constructor(
    private readonly store: S3BlobStore,
    private readonly uploadId: string,
    private readonly state: UploadState,
    private readonly buffer: Buffer,
    private filled: number,
  ) {
    super({ highWaterMark: 1024 * 1024 });
    this.previousTail = state.tail?.key ?? null;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.take(chunk).then(() => done(), done);
  }

  private async take(chunk: Buffer): Promise<void> {
    let at = 0;
    while (at < chunk.length) {
      const n = chunk.copy(this.buffer, this.filled, at);
      this.filled += n;
      at += n;
      if (this.filled === this.buffer.length) {
        this.state.etags.push(await this.store.uploadPart(this.uploadId, this.state, this.buffer));
        this.filled = 0;
      }
    }
  }

  override _final(done: (err?: Error | null) => void): void {
    this.store.finishChunk(this.uploadId, this.state, this.buffer.subarray(0, this.filled), this.previousTail).then(() => done(), done);
  }
}

function stagedSize(state: UploadState): number {
  return state.etags.length * state.partSize + (state.tail?.size ?? 0);
}

function isUploadState(v: unknown): v is UploadState {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  const tail = s.tail as Record<string, unknown> | null | undefined;
  return (
    (s.multipartId === null || typeof s.multipartId === 'string') &&
    typeof s.partSize === 'number' &&
    Array.isArray(s.etags) &&
    s.etags.every((e) => typeof e === 'string') &&
    (tail === null || (typeof tail === 'object' && typeof tail?.key === 'string' && typeof tail.size === 'number'))
  );
}

function asReadable(body: unknown): Readable {
  if (body instanceof Readable) return body;
  throw new Error('S3 returned a body that is not a Node stream');
}

function isNotFound(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.name === 'NoSuchUpload' || e.$metadata?.httpStatusCode === 404;
}
