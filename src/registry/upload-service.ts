import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { Transform, Writable, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobBeingCollected, DigestMismatch, UploadInvalid, UploadRangeInvalid, UploadUnknown, type UploadPosition } from './errors';
import { newHash, parseDigest, type ParsedDigest } from '../oci/digest';
import { UploadNotReadableError, type BlobStore } from '../storage/blob-store';
import type { UploadSession, UploadSessionStore } from '../sessions/upload-session-store';
import { OwnerQuotaError, type MetadataIndex } from '../metadata/metadata-index';
import { fromOwnerQuotaError, NO_QUOTA, storageQuotaExceeded, type StorageQuota } from './storage-quota';
import { UploadHashCache } from './hash-cache';
import type { StagedHashFollower } from './staged-hash-follower';
import { decodeSavedHash, encodeSavedHash, UploadHasherFactory, type HashingMode, type UploadHasher } from './upload-hasher';
import type { Logger } from '../log';

/** A chunk's declared position, from a PATCH's Content-Range. */

/** How long a commit waits for a sweep deleting the same digest before asking the client to retry. */
const CLAIM_WAIT_MS = 2_000;

export interface ChunkRange {
  start: number;
  end: number;
}

export interface UploadServiceOptions {
  /** Sessions idle this long are purged with their staged bytes. */
  sessionTtlMs: number;
  /** A lock is refreshed while a chunk streams, so a crashed holder frees it after this long. */
  lockTtlMs?: number;
  /**
   * `process` (default): Node's native SHA-256, its running state cached in
   * this process. `session`: a resumable SHA-256 whose state is saved with the
   * session after every chunk, so another replica continues without re-reading.
   */
  hashing?: HashingMode;
  /** Told of staged bytes read back from storage to rebuild a digest (a metric: it should stay near zero). */
  onRehash?: (bytes: number) => void;
  /** Storage quotas (src/quotas); none without it. */
  quota?: StorageQuota;
  /**
   * Where processes of one host share the staging disk (cluster workers): the process that hashes every
   * upload's staged chunks, whichever process wrote them. Chunks are then written here without hashing.
   */
  follower?: StagedHashFollower;
}

/** The meter's hasher when the follower hashes the chunk: it only counts. */
const NOT_HASHED = { update: () => undefined, snapshot: () => Promise.reject(new Error('not hashed here')) } satisfies UploadHasher;

/**
 * Counts and hashes bytes on their way to storage. A hasher on a worker
 * thread takes a copy and answers at once, unless it has fallen behind: then
 * it returns a promise and the stream waits (backpressure up to the socket).
 */
class HashingMeter extends Transform {
  bytes = 0;
  constructor(private readonly hash: { update(data: Buffer): unknown }) {
    super({ highWaterMark: 1024 * 1024 });
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const behind = this.hash.update(chunk);
    this.bytes += chunk.length;
    if (behind instanceof Promise) behind.then(() => done(null, chunk), done);
    else done(null, chunk);
  }
}

/**
 * Resumable blob uploads (distribution-spec "Pushing blobs"): sessions,
 * streamed chunks hashed on the way to storage, digest verification and the
 * atomic commit that makes a blob visible and links it to its repository.
 */
export class UploadService {
  private readonly hashes = new UploadHashCache();
  private readonly hashers: UploadHasherFactory;
  private readonly follower: StagedHashFollower | undefined;
  private readonly lockTtlMs: number;
  private readonly writing = new Set<string>();
  /** One promise per write holding a lock, settled once its lock is released. */
  private readonly lockedWork = new Set<Promise<void>>();
  /** Names this process as a lock holder; `<host>/<pid>/` lets a same-host store spot a dead holder. */
  private readonly owner = `${os.hostname()}/${process.pid}/${randomUUID()}`;

  constructor(
    private readonly blobs: BlobStore,
    private readonly sessions: UploadSessionStore,
    private readonly index: MetadataIndex,
    private readonly log: Logger,
    private readonly options: UploadServiceOptions,
  ) {
    this.lockTtlMs = options.lockTtlMs ?? 60_000;
    this.hashers = new UploadHasherFactory(options.hashing ?? 'process');
    this.follower = options.follower;
  }

  async start(repository: string): Promise<UploadSession> {
    const now = Date.now();
    const session: UploadSession = { id: randomUUID(), repository, offset: 0, startedAt: now, updatedAt: now };
    await this.blobs.createUpload(session.id);
    try {
      await this.sessions.create(session);
    } catch (err) {
      // No session, no way for the client to reach the staged file: remove it now.
      await this.bestEffort('removing the staged file of an upload that failed to start', () => this.blobs.abortUpload(session.id));
      throw err;
    }
    return session;
  }

  /** Current state, with the offset reconciled against what storage actually holds. */
  async status(repository: string, id: string): Promise<UploadSession> {
    const session = await this.session(repository, id);
    return this.reconcile(session);
  }

  async cancel(repository: string, id: string): Promise<void> {
    await this.session(repository, id);
    await this.discard(id);
  }

  /** Streams one chunk into the upload; returns the session with its new offset. */
  async append(repository: string, id: string, body: Readable, range?: ChunkRange): Promise<UploadSession> {
    return this.withLock(repository, id, async (session) => {
      if (range && range.start !== session.offset) {
        throw new UploadRangeInvalid(`chunk starts at ${range.start}, expected ${session.offset}`, positionOf(session));
      }
      return this.write(session, body, 'more');
    });
  }

  /** Finishes an upload: an optional last chunk, digest verification, commit, link. */
  async complete(repository: string, id: string, digestParam: string | undefined, body?: Readable): Promise<string> {
    const digest = parseDigest(digestParam);
    return this.withLock(repository, id, async (locked) => {
      const session = body ? await this.write(locked, body, 'last') : locked;
      await this.verifyAndCommit(session, digest);
      return digest.value;
    });
  }

  /** A whole blob in one request (POST ?digest=). Nothing is left behind if it fails. */
  async monolithic(repository: string, digestParam: string | undefined, body: Readable): Promise<string> {
    const digest = parseDigest(digestParam);
    const session = await this.start(repository);
    try {
      return await this.complete(repository, session.id, digest.value, body);
    } catch (err) {
      // The client sees the error that failed the push; a failed clean-up is left to the purge.
      await this.bestEffort('discarding a failed monolithic upload', () => this.discard(session.id));
      throw err;
    }
  }

  /** Purges sessions idle past the TTL, then staged data with no session. */
  async purgeStale(now = Date.now()): Promise<number> {
    let purged = 0;
    for (;;) {
      const stale = await this.sessions.listStale(now - this.options.sessionTtlMs, 100);
      for (const s of stale) await this.discard(s.id);
      purged += stale.length;
      if (stale.length < 100) break;
    }
    // Staged data whose session is gone (a crash between the two deletes); the
    // age check spares uploads whose session is being created right now.
    for (const upload of await this.blobs.listUploads()) {
      if (upload.modifiedAt < now - this.options.sessionTtlMs && !(await this.sessions.get(upload.id))) {
        await this.blobs.abortUpload(upload.id);
        purged += 1;
      }
    }
    return purged;
  }

  private async session(repository: string, id: string): Promise<UploadSession> {
    const session = await this.sessions.get(id);
    if (!session) {
      // Staged bytes whose session is gone (deleted by a cancel whose clean-up failed, lost with
      // the session store) can never be used again: free them now rather than at the purge.
      await this.bestEffort('removing the staged bytes of an unknown upload', () => this.blobs.abortUpload(id));
    }
    // Idle past the TTL is over, whether or not the purge has removed it yet (the same test as the purge's).
    if (!session || session.repository !== repository || session.updatedAt < Date.now() - this.options.sessionTtlMs) {
      throw new UploadUnknown(`upload ${id} is not in progress for ${repository}`);
    }
    return session;
  }

  private async reconcile(session: UploadSession): Promise<UploadSession> {
    const staged = await this.blobs.uploadSize(session.id);
    if (staged === null) {
      await this.sessions.delete(session.id);
      throw new UploadUnknown(`upload ${session.id} has no staged data`);
    }
    if (staged === session.offset) return session;
    // A crash mid-chunk leaves more on disk than the session recorded; what is on disk is the truth. (Less
    // than recorded, bytes below the offset changed: the follower must start again, not go on from where it was.)
    this.hashes.forget(session.id);
    this.follower?.forget(session.id);
    const updated: UploadSession = {
      id: session.id,
      repository: session.repository,
      offset: staged,
      startedAt: session.startedAt,
      updatedAt: Date.now(),
    };
    // Recording it may fail on the very full disk that cut the chunk short; the answer does not
    // depend on it, and the next chunk records its own offset.
    await this.bestEffort('recording the staged size of an upload', async () => {
      if (await this.sessions.setOffset(session.id, staged, updated.updatedAt)) this.follower?.staged(session.id, staged);
    });
    return updated;
  }

  /**
   * Runs `fn` holding the upload's lock: the store's lock keeps other
   * processes out, `writing` keeps out other requests in this one (the
   * store's lock is re-entrant for its owner).
   */
  private async withLock<T>(repository: string, id: string, fn: (s: UploadSession) => Promise<T>): Promise<T> {
    await this.session(repository, id);
    const locked = await this.sessions.tryLock(id, this.owner, this.lockTtlMs);
    // Checked after the await, with no await before the add: two requests cannot both pass.
    if (!locked || this.writing.has(id)) {
      const current = await this.session(repository, id);
      throw new UploadRangeInvalid('another request is writing to this upload', positionOf(current));
    }
    this.writing.add(id);
    let release = () => undefined as void;
    const done = new Promise<void>((resolve) => (release = resolve));
    this.lockedWork.add(done);
    const refresh = setInterval(() => {
      this.sessions.tryLock(id, this.owner, this.lockTtlMs).catch((err: unknown) => this.log.warn({ err }, 'lock refresh failed'));
    }, this.lockTtlMs / 3);
    refresh.unref();
    try {
      const session = await this.reconcile(await this.session(repository, id));
      return await fn(session);
    } finally {
      clearInterval(refresh);
      this.writing.delete(id);
      try {
        // The answer is about the chunk, which is stored (or failed) either way; a lock that
        // cannot be released expires after its TTL.
        await this.bestEffort('releasing an upload lock', () => this.sessions.unlock(id, this.owner));
      } finally {
        this.lockedWork.delete(done);
        release();
      }
    }
  }

  /**
   * Waits, at most `timeoutMs`, for the writes in progress to finish (a cut
   * chunk's offset saved, its lock released), so stores are not closed under
   * them at shutdown. Whether they all finished.
   */
  /** Stops the hashing thread; call after `settle`, when no write is left to hash. */
  async close(): Promise<void> {
    await this.hashers.close();
  }

  async settle(timeoutMs: number): Promise<boolean> {
    if (this.lockedWork.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([Promise.all([...this.lockedWork]).then(() => true), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** `last`: the chunk of a PUT, after which no other process needs to continue the hash. */
  private async write(session: UploadSession, body: Readable, chunk: 'more' | 'last'): Promise<UploadSession> {
    const hash = await this.hasherFor(session, chunk);
    const meter = new HashingMeter(hash);
    const sink = await this.blobs.openWrite(session.id, session.offset);
    try {
      await pipeline(body, meter, sink);
    } catch (err) {
      // Keep what reached storage so the client can resume from there. On a full or failing
      // disk this bookkeeping may fail too (then the session keeps its old offset): the client
      // still learns why its chunk failed, and the next request reconciles with storage.
      const staged = (await this.blobs.uploadSize(session.id).catch(() => null)) ?? session.offset;
      const intact = staged === session.offset + meter.bytes;
      // The hash state must describe exactly the staged bytes: the new one, the old one if
      // storage kept none of the chunk, or none at all (a later chunk re-hashes).
      const hashState =
        intact && hash !== NOT_HASHED
          ? await this.saveHash(hash, staged).catch(() => undefined)
          : staged === session.offset
            ? session.hashState
            : undefined;
      await this.bestEffort('recording the offset of a failed chunk', async () => {
        // As after a whole chunk: the follower hears of bytes only when this process did not hash them.
        const recorded = await this.sessions.setOffset(session.id, staged, Date.now(), hashState);
        if (recorded && !(intact && hash !== NOT_HASHED)) this.follower?.staged(session.id, staged);
      });
      if (intact && hash !== NOT_HASHED) this.hashes.put(session.id, hash, staged);
      throw err;
    }
    const offset = session.offset + meter.bytes;
    const updatedAt = Date.now();
    const hashState = hash === NOT_HASHED ? undefined : await this.saveHash(hash, offset);
    if (!(await this.sessions.setOffset(session.id, offset, updatedAt, hashState))) {
      throw new UploadUnknown(`upload ${session.id} was cancelled`);
    }
    if (hash === NOT_HASHED) this.follower?.staged(session.id, offset);
    else this.hashes.put(session.id, hash, offset);
    return { ...session, offset, updatedAt, hashState };
  }

  /**
   * The hash a chunk is metered through. With a follower, this process hashes natively on the way while it
   * holds the upload's whole chain (the first chunk, then every chunk after it here: a client on one
   * connection, as the Docker engine's PATCH and PUT); after a chunk landed elsewhere its chain is broken
   * (the cached offset is behind) and the follower hashes the rest, from where it last read, catching up on
   * bytes hashed here at most once.
   */
  private async hasherFor(session: UploadSession, chunk: 'more' | 'last'): Promise<UploadHasher> {
    if (!this.follower) return this.hashUpTo(session, chunk);
    if (session.offset === 0) return this.hashers.create('local');
    return this.hashes.take(session.id, session.offset) ?? NOT_HASHED;
  }

  private async saveHash(hash: UploadHasher, offset: number): Promise<string> {
    const { hex, state } = await hash.snapshot();
    return encodeSavedHash({ offset, sha256: hex, state });
  }

  /**
   * The running SHA-256 of the staged bytes: from this process's cache, else
   * from the state saved with the session, else rebuilt by reading them once.
   * A blob sent whole (nothing staged, last chunk) is hashed natively in any
   * mode: no other process will continue it, so its state need not be exportable.
   */
  private async hashUpTo(session: UploadSession, chunk: 'more' | 'last' = 'more'): Promise<UploadHasher> {
    if (session.offset === 0 && chunk === 'last') return this.hashers.create('local');
    const cached = this.hashes.take(session.id, session.offset);
    if (cached) return cached;
    const saved = decodeSavedHash(session.hashState);
    if (saved && saved.offset === session.offset && saved.state) {
      const restored = await this.hashers.restore(saved.state);
      if (restored) return restored;
    }
    const hash = await this.hashers.create('shared');
    await this.rehash(session, hash);
    return hash;
  }

  private async rehash(session: UploadSession, hash: { update(data: Buffer): unknown }): Promise<void> {
    if (session.offset === 0) return;
    const meter = new HashingMeter(hash);
    try {
      await pipeline(await this.blobs.readUpload(session.id, session.offset), meter, devNull());
    } catch (err) {
      if (!(err instanceof UploadNotReadableError)) throw err;
      this.log.warn({ upload: session.id }, 'upload has no hash state and its storage cannot be read back');
      throw new UploadInvalid(`upload ${session.id} cannot be verified any more; start it again`);
    } finally {
      if (meter.bytes > 0) this.options.onRehash?.(meter.bytes);
    }
  }

  /** Hex digest of the staged bytes, re-reading them only when nothing saved or cached knows it. */
  private async digestUpTo(session: UploadSession, algorithm: ParsedDigest['algorithm']): Promise<string> {
    if (algorithm !== 'sha256') {
      const hash = newHash(algorithm);
      await this.rehash(session, hash);
      return hash.digest('hex');
    }
    const cached = this.hashes.take(session.id, session.offset);
    const saved = decodeSavedHash(session.hashState);
    if (!cached && saved && saved.offset === session.offset) return saved.sha256;
    if (!cached && this.follower) {
      const followed = await this.follower.digestAt(session.id, session.offset);
      if (followed !== null) return followed;
    }
    const hash = cached ?? (await this.hashUpTo(session));
    this.hashes.put(session.id, hash, session.offset);
    return (await hash.snapshot()).hex;
  }

  private async verifyAndCommit(session: UploadSession, digest: ParsedDigest): Promise<void> {
    const actual = `${digest.algorithm}:${await this.digestUpTo(session, digest.algorithm)}`;
    if (actual !== digest.value) {
      throw new DigestMismatch(`upload content has digest ${actual}, not ${digest.value}`);
    }
    const maxOwnerBytes = await (this.options.quota ?? NO_QUOTA).maxOwnerBytes(session.repository);
    // Refused before the bytes are committed, the session keeps them: the same PUT succeeds once the limit is raised.
    if (maxOwnerBytes !== undefined) await this.refuseOverQuota(session, digest.value, maxOwnerBytes);
    // Claimed before the bytes land, released by the link: no sweep deletes the blob in between (src/gc/collector.ts).
    await this.claim(digest.value, session.id);
    await this.blobs.commitUpload(session.id, digest.value);
    let linked: boolean;
    try {
      // The exact check, in the link's transaction: a concurrent push may have used the room since.
      linked = await this.index.linkBlob(session.repository, digest.value, session.offset, { claim: session.id, maxOwnerBytes });
    } catch (err) {
      if (err instanceof OwnerQuotaError) throw fromOwnerQuotaError(err);
      throw err;
    }
    if (!linked) throw new BlobBeingCollected(`blob ${digest.value} was being garbage-collected; push it again`);
    this.hashes.forget(session.id);
    this.follower?.forget(session.id);
    // The blob is committed and linked, so the push succeeded: a session left behind has no
    // staged data any more, and the next request for it or the purge removes it.
    await this.bestEffort('deleting the session of a completed upload', () => this.sessions.delete(session.id));
  }

  private async refuseOverQuota(session: UploadSession, digest: string, maxOwnerBytes: number): Promise<void> {
    const charge = await this.index.blobCharge(session.repository, digest, session.offset);
    if (charge.addedBytes > 0 && charge.usedBytes + charge.addedBytes > maxOwnerBytes) {
      throw storageQuotaExceeded(charge.owner, charge.usedBytes, maxOwnerBytes, charge.addedBytes);
    }
  }

  /** Waits out a sweep deleting the same digest (a few milliseconds), up to CLAIM_WAIT_MS. */
  private async claim(digest: string, claim: string): Promise<void> {
    const deadline = Date.now() + CLAIM_WAIT_MS;
    while (!(await this.index.claimBlob(digest, claim, Date.now()))) {
      if (Date.now() >= deadline) throw new BlobBeingCollected(`blob ${digest} is being garbage-collected; retry`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * Staged bytes first, then the session: on a full disk removing the bytes is what frees the
   * space the session store may need, and a session whose bytes are gone is reconciled away as
   * unknown (a retried cancel finds it and finishes), while bytes without a session would wait
   * for the purge.
   */
  private async discard(id: string): Promise<void> {
    this.hashes.forget(id);
    this.follower?.forget(id);
    await this.blobs.abortUpload(id);
    await this.sessions.delete(id);
  }

  /** Clean-up on an error path: a failure is logged, never allowed to hide the error being answered. */
  private async bestEffort(what: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      this.log.warn({ err }, `${what} failed`);
    }
  }
}

function positionOf(session: UploadSession): UploadPosition {
  return { repository: session.repository, uploadId: session.id, offset: session.offset };
}

function devNull(): Writable {
  return new Writable({
    write(_chunk, _enc, done) {
      done();
    },
  });
}
