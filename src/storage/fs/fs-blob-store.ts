import { constants as fsConstants, createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { copyFileRange } from './file-copier';
import { BlobNotFoundError, UploadNotFoundError, type BlobStore, type ByteRange, type StagedUpload } from '../blob-store';

/**
 * Layout under the root directory:
 *
 *   blobs/<algorithm>/<first two hex>/<hex>   committed blobs, written only by rename
 *   uploads/<upload id>                        staged bytes of an upload in progress
 *
 * Uploads and blobs share one filesystem so that commit is a single atomic
 * rename: a reader sees either no blob or the whole verified blob.
 */
export class FsBlobStore implements BlobStore {
  private readonly blobsDir: string;
  private readonly uploadsDir: string;

  constructor(root: string) {
    this.blobsDir = path.join(root, 'blobs');
    this.uploadsDir = path.join(root, 'uploads');
  }

  async init(): Promise<void> {
    await fs.mkdir(this.blobsDir, { recursive: true });
    await fs.mkdir(this.uploadsDir, { recursive: true });
  }

  /** Both directories exist and are writable. */
  async ping(): Promise<void> {
    await fs.access(this.blobsDir, fsConstants.W_OK);
    await fs.access(this.uploadsDir, fsConstants.W_OK);
  }

  private blobPath(digest: string): string {
    const [algorithm, hex] = digest.split(':');
    if (!algorithm || !hex || !/^[a-z0-9]+$/.test(algorithm) || !/^[a-f0-9]+$/.test(hex)) {
      throw new Error(`not a canonical digest: ${digest}`);
    }
    return path.join(this.blobsDir, algorithm, hex.slice(0, 2), hex);
  }

  private uploadPath(uploadId: string): string {
    if (!/^[A-Za-z0-9-]+$/.test(uploadId)) throw new UploadNotFoundError(uploadId);
    return path.join(this.uploadsDir, uploadId);
  }

  async stat(digest: string): Promise<number | null> {
    try {
      return (await fs.stat(this.blobPath(digest))).size;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** Opens a committed blob for reading; a missing one is BlobNotFoundError here, not an 'error' event mid-response. */
  private async openBlob(digest: string): Promise<fs.FileHandle> {
    try {
      return await fs.open(this.blobPath(digest), 'r');
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(digest);
      throw err;
    }
  }

  async openRead(digest: string, range?: ByteRange): Promise<Readable> {
    const handle = await this.openBlob(digest);
    return createReadStream('', {
      fd: handle,
      start: range?.start,
      end: range?.end,
      // 256 KiB: with many concurrent pulls, 1 MiB reads cost more in allocation and GC than they save
      // in syscalls (conformance/bench: 4 MiB GETs ×32 gained 26–87%; one-stream GETs unchanged).
      highWaterMark: 256 * 1024,
    });
  }

  async copyTo(digest: string, destination: Writable, range?: ByteRange): Promise<void> {
    const handle = await this.openBlob(digest);
    try {
      const end = range ? range.end : (await handle.stat()).size - 1;
      if (end >= (range?.start ?? 0)) await copyFileRange(handle.fd, range?.start ?? 0, end, destination);
    } finally {
      await handle.close();
    }
  }

  async delete(digest: string): Promise<void> {
    await fs.rm(this.blobPath(digest), { force: true });
  }

  async createUpload(uploadId: string): Promise<void> {
    await fs.writeFile(this.uploadPath(uploadId), Buffer.alloc(0), { flag: 'wx' });
  }

  async uploadSize(uploadId: string): Promise<number | null> {
    try {
      return (await fs.stat(this.uploadPath(uploadId))).size;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async openWrite(uploadId: string, offset: number): Promise<Writable> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.uploadPath(uploadId), 'r+');
    } catch (err) {
      if (isNotFound(err)) throw new UploadNotFoundError(uploadId);
      throw err;
    }
    // Bytes past the offset are a chunk the session never accepted: drop them.
    await handle.truncate(offset);
    return createWriteStream('', { fd: handle, start: offset, highWaterMark: 1024 * 1024 });
  }

  async readUpload(uploadId: string, end: number): Promise<Readable> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.uploadPath(uploadId), 'r');
    } catch (err) {
      if (isNotFound(err)) throw new UploadNotFoundError(uploadId);
      throw err;
    }
    if (end === 0) {
      await handle.close();
      return Readable.from([]);
    }
    return createReadStream('', { fd: handle, start: 0, end: end - 1, highWaterMark: 1024 * 1024 });
  }

  async commitUpload(uploadId: string, digest: string): Promise<void> {
    const target = this.blobPath(digest);
    await fs.mkdir(path.dirname(target), { recursive: true });
    try {
      await fs.rename(this.uploadPath(uploadId), target);
    } catch (err) {
      if (isNotFound(err)) throw new UploadNotFoundError(uploadId);
      throw err;
    }
  }

  async abortUpload(uploadId: string): Promise<void> {
    try {
      await fs.rm(this.uploadPath(uploadId), { force: true });
    } catch (err) {
      if (!(err instanceof UploadNotFoundError)) throw err;
    }
  }

  async listUploads(): Promise<StagedUpload[]> {
    const uploads: StagedUpload[] = [];
    for (const id of await fs.readdir(this.uploadsDir)) {
      try {
        uploads.push({ id, modifiedAt: (await fs.stat(path.join(this.uploadsDir, id))).mtimeMs });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return uploads;
  }
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === 'ENOENT';
}
