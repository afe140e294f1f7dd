import cluster, { type Worker } from 'node:cluster';
import { isMessage } from './messages';
import type { StagedHashFollower } from '../registry/staged-hash-follower';
import type { UploadHashFollower } from './upload-hash-follower';

/**
 * The cluster's messages between workers and the primary's UploadHashFollower. A worker reports what it
 * staged and asks for digests; the primary answers on the asking worker's channel.
 */
const STAGED = 'berth:hash-staged';
const DIGEST = 'berth:hash-digest';
const DIGESTED = 'berth:hash-digested';
const FORGET = 'berth:hash-forget';

interface Staged {
  type: typeof STAGED;
  uploadId: string;
  offset: number;
}
interface Digest {
  type: typeof DIGEST;
  seq: number;
  uploadId: string;
  offset: number;
}
interface Digested {
  type: typeof DIGESTED;
  seq: number;
  hex: string | null;
  readBytes: number;
}
interface Forget {
  type: typeof FORGET;
  uploadId: string;
}

/** In the primary: serves every worker's reports and questions. */
export function serveUploadHashFollower(follower: UploadHashFollower): void {
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (isMessage<Staged>(message, STAGED)) follower.staged(message.uploadId, message.offset);
    else if (isMessage<Forget>(message, FORGET)) follower.forget(message.uploadId);
    else if (isMessage<Digest>(message, DIGEST)) {
      const { seq } = message;
      const answer = (hex: string | null, readBytes: number) => {
        if (worker.isConnected()) worker.send({ type: DIGESTED, seq, hex, readBytes } satisfies Digested);
      };
      follower.digestAt(message.uploadId, message.offset).then(
        (digest) => answer(digest?.hex ?? null, digest?.readBytes ?? 0),
        () => answer(null, 0),
      );
    }
  });
}

export interface FollowerClientOptions {
  /** A digest the primary has not answered in this long is re-hashed by the worker itself. */
  timeoutMs: number;
  /** Told, with each digest the follower answered, how many bytes it read for that upload in all (a metric). */
  onDigest?: (readBytes: number) => void;
}

/** In a worker: the StagedHashFollower the upload service talks to, over the cluster's channel. */
export class ClusterHashFollowerClient implements StagedHashFollower {
  private nextSeq = 1;
  private readonly pending = new Map<number, { resolve(hex: string | null): void; timer: NodeJS.Timeout }>();

  constructor(private readonly options: FollowerClientOptions) {
    process.on('message', (message: unknown) => {
      if (!isMessage<Digested>(message, DIGESTED)) return;
      const waiter = this.pending.get(message.seq);
      if (!waiter) return;
      this.pending.delete(message.seq);
      clearTimeout(waiter.timer);
      if (message.hex !== null) this.options.onDigest?.(message.readBytes);
      waiter.resolve(message.hex);
    });
  }

  staged(uploadId: string, offset: number): void {
    send<Staged>({ type: STAGED, uploadId, offset });
  }

  digestAt(uploadId: string, offset: number): Promise<string | null> {
    return new Promise((resolve) => {
      const seq = this.nextSeq++;
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        resolve(null);
      }, this.options.timeoutMs);
      this.pending.set(seq, { resolve, timer });
      if (!send<Digest>({ type: DIGEST, seq, uploadId, offset })) {
        this.pending.delete(seq);
        clearTimeout(timer);
        resolve(null);
      }
    });
  }

  forget(uploadId: string): void {
    send<Forget>({ type: FORGET, uploadId });
  }
}

/** Sends to the primary; false when there is no channel (not a cluster worker, or it closed). */
function send<T>(message: T): boolean {
  if (!process.send || !process.connected) return false;
  process.send(message);
  return true;
}
