import type { Readable } from 'node:stream';
import { HashThread } from '../registry/hash-thread';

/** Reads the staged bytes [start, end) of an upload (the filesystem store's readUpload). */
export type StagedReader = (uploadId: string, end: number, start: number) => Promise<Readable>;

/** What the follower answers for a digest: the hex, and how many bytes it read for this upload in all. */
export interface FollowedDigest {
  hex: string;
  readBytes: number;
}

interface Followed {
  hashId: number;
  /** Bytes given to the hash so far: reads always start here, so no byte is read twice. */
  hashed: number;
  /** Bytes the workers said are staged for good. */
  staged: number;
  touchedAt: number;
  pumping: Promise<void> | null;
  failed: boolean;
}

/** Bytes a followed upload may have waiting in the hash thread before the reader waits (as upload-hasher.ts). */
const MAX_QUEUED = 8 * 1024 * 1024;

/**
 * The cluster primary's side of StagedHashFollower (src/registry/staged-hash-follower.ts): for each upload a
 * worker reports, the native SHA-256 of its staged bytes, read from the shared disk (the page cache: they were
 * written a moment ago) in order and once, on the primary's hash thread, while the workers go on serving.
 * Uploads nobody touched for `idleMs` (their sessions expire) are dropped.
 */
export class UploadHashFollower {
  private readonly uploads = new Map<string, Followed>();
  private readonly thread = new HashThread();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly read: StagedReader,
    private readonly idleMs: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.dropIdle(), Math.min(idleMs, 60_000));
    this.sweeper.unref();
  }

  staged(uploadId: string, offset: number): void {
    const followed = this.follow(uploadId);
    if (offset > followed.staged) followed.staged = offset;
    void this.pump(uploadId, followed);
  }

  /** An upload never reported (its chunks were hashed by the worker that wrote them) is read from its start. */
  async digestAt(uploadId: string, offset: number): Promise<FollowedDigest | null> {
    const followed = this.follow(uploadId);
    if (offset > followed.staged) followed.staged = offset;
    let idlePumps = 0;
    while (!followed.failed && followed.hashed < offset) {
      const before = followed.hashed;
      await this.pump(uploadId, followed);
      // The pump awaited may have finished its reading before the offset was raised: one more is owed, but
      // a second that reads nothing will not read more by being asked again.
      idlePumps = followed.hashed === before ? idlePumps + 1 : 0;
      if (idlePumps === 2) return null;
    }
    // Past the offset asked for: a later chunk was staged since (the asker's session is stale).
    if (followed.failed || followed.hashed !== offset) return null;
    const { hex } = await this.thread.snapshot(followed.hashId);
    return { hex, readBytes: followed.hashed };
  }

  forget(uploadId: string): void {
    const followed = this.uploads.get(uploadId);
    if (!followed) return;
    this.uploads.delete(uploadId);
    this.thread.dispose(followed.hashId);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.uploads.clear();
    await this.thread.close();
  }

  private follow(uploadId: string): Followed {
    let followed = this.uploads.get(uploadId);
    if (!followed) {
      followed = { hashId: 0, hashed: 0, staged: 0, touchedAt: 0, pumping: null, failed: false };
      this.uploads.set(uploadId, followed);
    }
    followed.touchedAt = this.clock();
    return followed;
  }

  /** Hashes what is staged and not yet hashed; one pump per upload at a time. */
  private pump(uploadId: string, followed: Followed): Promise<void> {
    // Cleared by a handler on the promise that callers await, so whoever awaits it sees it cleared, never
    // inside the async body: a body with nothing to read finishes before `pumping` is assigned, and clearing
    // it there left a settled promise in place for good, on which digestAt spun without reading (a primary
    // at 100% CPU that accepted no connection: the conformance run's uploads e2e hang).
    followed.pumping ??= this.hashStaged(uploadId, followed).finally(() => {
      followed.pumping = null;
    });
    return followed.pumping;
  }

  private async hashStaged(uploadId: string, followed: Followed): Promise<void> {
    try {
      if (followed.hashId === 0) followed.hashId = (await this.thread.open('native')) ?? 0;
      while (followed.hashed < followed.staged) {
        const end = followed.staged;
        for await (const piece of await this.read(uploadId, end, followed.hashed)) {
          const bytes = piece as Buffer;
          const queued = this.thread.update(followed.hashId, bytes);
          followed.hashed += bytes.length;
          if (queued > MAX_QUEUED) await this.thread.drained(followed.hashId, MAX_QUEUED / 2);
        }
        if (followed.hashed !== end) throw new Error(`upload ${uploadId} ended at ${followed.hashed}, not ${end}`);
      }
    } catch {
      // Gone (committed or cancelled by now) or unreadable: whoever asks next re-hashes on its own.
      followed.failed = true;
      this.forget(uploadId);
    }
  }

  private dropIdle(): void {
    const before = this.clock() - this.idleMs;
    for (const [uploadId, followed] of this.uploads) {
      if (followed.touchedAt < before && !followed.pumping) this.forget(uploadId);
    }
  }
}
