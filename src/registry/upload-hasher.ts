import { createHash, type Hash } from 'node:crypto';
import type { IHasher } from 'hash-wasm';

/**
 * The running SHA-256 of an upload's staged bytes.
 *
 * Two kinds: `process` wraps Node's native hash (fastest, but its state cannot
 * leave the process) and `session` runs SHA-256 in WebAssembly (hash-wasm)
 * so its internal state can be saved with the upload session after every
 * chunk and loaded by another replica, or after a restart, with no re-read.
 */
export type HashingMode = 'process' | 'session';

export interface UploadHasher {
  update(data: Uint8Array): void;
  /** Hex digest of everything so far; the hasher stays usable. */
  peekHex(): string;
  /** The internal state, base64, or null when this kind cannot export it. */
  exportState(): string | null;
}

class NativeHasher implements UploadHasher {
  private readonly hash: Hash = createHash('sha256');
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  peekHex(): string {
    return this.hash.copy().digest('hex');
  }
  exportState(): null {
    return null;
  }
}

/**
 * All resumable hashers of a process share one WebAssembly instance; each
 * keeps its own 116-byte state and swaps it in around every update. Chunks
 * of different uploads interleave only between updates, never inside one.
 */
class WasmHasher implements UploadHasher {
  constructor(
    private readonly engine: IHasher,
    private state: Uint8Array,
  ) {}
  update(data: Uint8Array): void {
    this.engine.load(this.state);
    this.engine.update(data);
    this.state = this.engine.save();
  }
  peekHex(): string {
    this.engine.load(this.state);
    return this.engine.digest('hex');
  }
  exportState(): string {
    return Buffer.from(this.state).toString('base64');
  }
}

/** Makes hashers of one kind; `session` hashers can also be restored from an exported state. */
export class UploadHasherFactory {
  private engine: Promise<IHasher> | null = null;

  constructor(readonly mode: HashingMode) {}

  /**
   * A new hasher. `local`: only this process will ever continue it, so the
   * native one serves in any mode; `shared`: the kind of this factory's mode.
   */
  async create(scope: 'local' | 'shared' = 'shared'): Promise<UploadHasher> {
    if (this.mode === 'process' || scope === 'local') return new NativeHasher();
    const engine = await this.wasm();
    engine.init();
    return new WasmHasher(engine, engine.save());
  }

  /** A hasher continuing from an exported state, or null if the state is not one this version can load. */
  async restore(state: string): Promise<UploadHasher | null> {
    const engine = await this.wasm();
    const bytes = new Uint8Array(Buffer.from(state, 'base64'));
    try {
      engine.load(bytes);
    } catch {
      return null;
    }
    return new WasmHasher(engine, bytes);
  }

  private wasm(): Promise<IHasher> {
    // Loaded on first use: the embedded default (native hashing) never needs it.
    this.engine ??= import('hash-wasm').then((m) => m.createSHA256());
    return this.engine;
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
