import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { asLocalStorageFault, StorageFullError } from '../storage-faults';

/**
 * The sink of one chunk into an upload's file: writes at increasing
 * positions and closes the file when done or destroyed. Unlike a plain
 * fs.WriteStream, its failures are typed (a full disk is StorageFullError),
 * and the bytes a short write did store stay counted on disk for the
 * client to resume from.
 */
export class UploadFileWriter extends Writable {
  /** The writeback in progress: at most one, and the file is not closed under it. */
  private syncing: Promise<void> | null = null;

  constructor(
    private readonly handle: FileHandle,
    private position: number,
  ) {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.writeAll([chunk]).then(
      () => done(),
      (err: unknown) => done(asError(err)),
    );
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, done: (err?: Error | null) => void): void {
    this.writeAll(chunks.map((c) => c.chunk)).then(
      () => done(),
      (err: unknown) => done(asError(err)),
    );
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (this.syncing) {
      // The chunk is written; its request need not wait for the disk. The file closes once the writeback ends.
      void this.syncing.then(() => this.handle.close()).catch(() => undefined);
      done(err);
      return;
    }
    this.handle.close().then(
      () => done(err),
      (closeErr: unknown) => done(err ?? asError(closeErr)),
    );
  }

  override _final(done: (err?: Error | null) => void): void {
    done();
  }

  private async writeAll(buffers: Buffer[]): Promise<void> {
    const start = this.position;
    let pending = buffers.filter((b) => b.length > 0);
    while (pending.length > 0) {
      let written: number;
      try {
        ({ bytesWritten: written } = await this.handle.writev(pending, this.position));
      } catch (err) {
        throw asLocalStorageFault(err);
      }
      // A regular file takes at least a byte or fails; nothing at all would loop forever.
      if (written === 0) throw new StorageFullError();
      this.position += written;
      pending = skip(pending, written);
    }
    // By position in the file, not by this writer's bytes: an upload in chunks smaller than the step, each through a
    // writer of its own, starts its writebacks all the same.
    if (Math.floor(start / WRITEBACK_BYTES) < Math.floor(this.position / WRITEBACK_BYTES) && !this.syncing) this.startWriteback();
  }

  /**
   * Starts writing what the file has so far to the disk while the socket goes on delivering (fdatasync on a
   * thread of the pool, not awaited): the commit's own sync then waits for the last few MiB, not the whole upload.
   * A failure here is not the upload's: the commit's sync reports the disk's state.
   */
  private startWriteback(): void {
    const ended = () => {
      this.syncing = null;
    };
    this.syncing = this.handle.datasync().then(ended, ended);
  }
}

/**
 * Written bytes between writebacks. Small enough that a commit waits for little; large enough that a sync's
 * fixed cost (a journal commit) is paid rarely: 32 MiB is under a tenth of a second of the disk here.
 */
const WRITEBACK_BYTES = 32 * 1024 * 1024;

/** What is left of `buffers` after their first `bytes` bytes. */
function skip(buffers: Buffer[], bytes: number): Buffer[] {
  const rest: Buffer[] = [];
  let left = bytes;
  for (const b of buffers) {
    if (left >= b.length) {
      left -= b.length;
      continue;
    }
    rest.push(left > 0 ? b.subarray(left) : b);
    left = 0;
  }
  return rest;
}

/** Errors of Node's own fs are kept as they are, whatever realm made them (jest's `instanceof Error` fails for them). */
function asError(err: unknown): Error {
  return typeof err === 'object' && err !== null ? (err as Error) : new Error(String(err));
}
