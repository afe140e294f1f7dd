import { HashThread } from './hash-thread';

/**
 * The running SHA-256 of an upload's staged bytes.
 *
 * Two kinds: `process` is Node's native hash (fastest, but its state cannot
 * leave the process) and `session` runs SHA-256 in WebAssembly (hash-wasm)
 * so its internal state can be saved with the upload session after every
 * chunk and loaded by another process (cluster worker, replica), or after a
 * restart, with no re-read. Both run on a worker thread (hash-thread.ts).
 */
export type HashingMode = 'process' | 'session';

export interface UploadHasher {
  /** Queues `data`; a promise when the writer should wait for the thread to catch up. */
  update(data: Uint8Array): Promise<void> | undefined;
  /** Hex digest of everything so far and, base64, the state to continue from (null when this kind cannot export it). */
  snapshot(): Promise<{ hex: string; state: string | null }>;
}

/** Bytes a hasher may have waiting in the thread before its writer waits: a few socket reads' worth. */
const MAX_QUEUED = 8 * 1024 * 1024;

class ThreadHasher implements UploadHasher {
  constructor(
    private readonly thread: HashThread,
    private readonly id: number,
  ) {}
  update(data: Uint8Array): Promise<void> | undefined {
    return this.thread.update(this.id, data) > MAX_QUEUED ? this.thread.drained(this.id, MAX_QUEUED / 2) : undefined;
  }
  async snapshot(): Promise<{ hex: string; state: string | null }> {
    const s = await this.thread.snapshot(this.id);
    return { hex: s.hex, state: s.state ? Buffer.from(s.state).toString('base64') : null };
  }
}

/** Makes hashers of one kind; `session` hashers can also be restored from an exported state. */
export class UploadHasherFactory {
  private readonly thread = new HashThread();
  /** A hasher dropped without a word (an upload abandoned, a cache eviction) frees its hash in the thread. */
  private readonly finalizer = new FinalizationRegistry<number>((id) => this.thread.dispose(id));

  constructor(readonly mode: HashingMode) {}

  /**
   * A new hasher. `local`: only this process will ever continue it, so the
   * native one serves in any mode; `shared`: the kind of this factory's mode.
   */
  async create(scope: 'local' | 'shared' = 'shared'): Promise<UploadHasher> {
    const native = this.mode === 'process' || scope === 'local';
    return this.wrap(await this.thread.open(native ? 'native' : 'wasm'));
  }

  /** A hasher continuing from an exported state, or null if the state is not one this version can load. */
  async restore(state: string): Promise<UploadHasher | null> {
    const id = await this.thread.open('wasm', new Uint8Array(Buffer.from(state, 'base64')));
    return id === null ? null : this.wrap(id);
  }

  close(): Promise<void> {
    return this.thread.close();
  }

  private wrap(id: number | null): UploadHasher {
    if (id === null) throw new Error('the hash thread could not open a new hash');
    const hasher = new ThreadHasher(this.thread, id);
    this.finalizer.register(hasher, id);
    return hasher;
  }
}

/**
 * What the upload service keeps in `UploadSession.hashState`: the SHA-256 of
 * exactly `offset` staged bytes (enough to verify a final PUT without a body
 * anywhere, even with native hashing) and, when the hasher can export it, the
 * state to continue hashing from.
 */
export interface SavedHash {
  offset: number;
  sha256: string;
  state: string | null;
}

export function encodeSavedHash(saved: SavedHash): string {
  return `v1;${saved.offset};${saved.sha256};${saved.state ?? ''}`;
}

/** The saved hash, or null if the text is absent, malformed or from another version. */
export function decodeSavedHash(text: string | undefined): SavedHash | null {
  const m = text ? /^v1;(\d+);([a-f0-9]{64});([A-Za-z0-9+/=]*)$/.exec(text) : null;
  if (!m) return null;
  return { offset: Number(m[1]), sha256: m[2] as string, state: m[3] ? m[3] : null };
}
