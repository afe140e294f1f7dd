import { Writable } from 'node:stream';
import { asLocalStorageFault } from '../../src/storage/storage-faults';

/**
 * Fault injection for tests: wrappers around a BlobStore, an
 * UploadSessionStore and a MetadataIndex that record every operation and make
 * one armed operation fail the way real storage fails. The faults are raw
 * errors as the drivers meet them (an errno, a SQLite code), passed through
 * the driver's own translation where the driver has one; a vanished file or
 * session is real: it is removed before the operation runs.
 */
export const FAULTS = ['ENOSPC', 'EIO', 'EACCES', 'timeout', 'vanished'] as const;
export type FaultName = (typeof FAULTS)[number];
/** Faults of S3 itself (s3-fault-injection.ts): a 500 InternalError, a 503 SlowDown, a connection reset. */
export const S3_FAULTS = ['InternalError', 'SlowDown', 'ECONNRESET'] as const;
export type S3FaultName = (typeof S3_FAULTS)[number];

/** Where an operation lives: blob storage (fs), upload sessions (SQLite) or the metadata index (SQLite). */
export type Layer = 'blobs' | 'sessions' | 'index';

export interface Armed {
  /** `layer.method`, `blobs.write` for the bytes of a chunk, or `s3.<Command>`. */
  operation: string;
  fault: FaultName | S3FaultName;
  /** Which call of the operation fails, counted from 1 since arming (default 1). */
  occurrence?: number;
}

/** Removes what an operation is about (a staged file, a blob, a session), or null where nothing can vanish. */
export type Vanisher = (method: string, args: unknown[]) => (() => Promise<void>) | null;

export class FaultSwitch {
  /** Every operation called while recording, in order. */
  readonly calls: string[] = [];
  /** Faults still to be hit, each once, at the given call of its operation. */
  private armed: Armed[] = [];
  /** Calls of each operation since arming. */
  private counts = new Map<string, number>();
  /** Whether an armed fault was hit. */
  hit = false;
  recording = false;

  arm(...armed: Armed[]): void {
    this.armed = armed;
    this.counts.clear();
    this.hit = false;
  }

  clear(): void {
    this.armed = [];
  }

  /** Whether every armed fault was hit. */
  get allHit(): boolean {
    return this.hit && this.armed.length === 0;
  }

  /** Called before each operation: records it, and raises the fault once if it is the armed one. */
  async before(operation: string, vanish: (() => Promise<void>) | null): Promise<void> {
    const armed = this.take(operation);
    if (!armed) return;
    if (armed.fault === 'vanished') {
      if (!vanish) throw new Error(`${operation} has nothing that can vanish`);
      await vanish();
      return;
    }
    throw rawFault(operation.split('.')[0] as Layer, localFault(armed.fault));
  }

  /** Counts (and records) a call of `operation`; the fault armed for this call, disarmed now that it is hit, or null. */
  take(operation: string): Armed | null {
    if (this.recording) this.calls.push(operation);
    const call = (this.counts.get(operation) ?? 0) + 1;
    this.counts.set(operation, call);
    const i = this.armed.findIndex((a) => a.operation === operation && (a.occurrence ?? 1) === call);
    if (i < 0) return null;
    const [armed] = this.armed.splice(i, 1);
    this.hit = true;
    return armed ?? null;
  }
}

/** The raw error storage of `layer` reports for `fault`, translated as that layer's driver translates it. */
export function rawFault(layer: Layer, fault: Exclude<FaultName, 'vanished'>): unknown {
  if (layer === 'blobs') {
    const code = { ENOSPC: 'ENOSPC', EIO: 'EIO', EACCES: 'EACCES', timeout: 'ETIMEDOUT' }[fault];
    return asLocalStorageFault(errno(code));
  }
  // better-sqlite3's SqliteError carries the SQLite code; the session store translates it,
  // the metadata index leaves that to the HTTP edge.
  const code = { ENOSPC: 'SQLITE_FULL', EIO: 'SQLITE_IOERR_WRITE', EACCES: 'SQLITE_READONLY', timeout: 'SQLITE_BUSY' }[fault];
  const err = Object.assign(new Error(`injected ${code}`), { code, name: 'SqliteError' });
  return layer === 'sessions' ? asLocalStorageFault(err) : err;
}

function localFault(fault: FaultName | S3FaultName): Exclude<FaultName, 'vanished'> {
  if (fault === 'vanished' || (S3_FAULTS as readonly string[]).includes(fault)) throw new Error(`${fault} is not a local fault`);
  return fault as Exclude<FaultName, 'vanished'>;
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected fault`), { code, errno: -1, syscall: 'write' });
}

/**
 * `target` with each method first passing `faults.before(layer.method)`.
 * Every method of the wrapped interfaces returns a promise, so the wrapper does too.
 */
export function withFaults<T extends object>(target: T, layer: Layer, faults: FaultSwitch, vanisher: Vanisher = () => null): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string' || property === 'constructor') return value;
      const method = value as (...args: unknown[]) => unknown;
      return async (...args: unknown[]) => {
        await faults.before(`${layer}.${property}`, vanisher(property, args));
        const result = await method.apply(object, args);
        if (layer === 'blobs' && property === 'openWrite') return new FaultyWriter(result as Writable, faults, vanisher(property, args));
        return result;
      };
    },
  });
}

/**
 * A chunk's sink that can fail mid-chunk (`blobs.write`): half of the first
 * chunk reaches storage, then the write fails, as a disk filling up does.
 */
class FaultyWriter extends Writable {
  private armedChecked = false;

  constructor(
    private readonly inner: Writable,
    private readonly faults: FaultSwitch,
    private readonly vanish: (() => Promise<void>) | null,
  ) {
    super({ highWaterMark: 1024 * 1024 });
    inner.on('error', (err) => this.destroy(err));
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.take(chunk).then(
      () => done(),
      (err: unknown) => done(err as Error),
    );
  }

  private async take(chunk: Buffer): Promise<void> {
    if (!this.armedChecked) {
      this.armedChecked = true;
      const armed = this.faults.take('blobs.write');
      if (armed) {
        if (armed.fault === 'vanished') {
          await this.vanish?.();
        } else {
          await this.forward(chunk.subarray(0, chunk.length >> 1));
          throw rawFault('blobs', localFault(armed.fault));
        }
      }
    }
    await this.forward(chunk);
  }

  private forward(chunk: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.inner.write(chunk, (err) => (err ? reject(err) : resolve())));
  }

  override _final(done: (err?: Error | null) => void): void {
    this.inner.end(() => done());
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.inner.destroy();
    done(err);
  }
}
