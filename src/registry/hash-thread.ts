import { Worker } from 'node:worker_threads';

/**
 * A worker thread that runs the SHA-256 of uploads, so hashing overlaps with
 * the main thread's socket reads and file writes instead of adding to them.
 * The main thread posts a copy of each piece of a chunk (the original goes on
 * to storage) and goes on; the thread answers each piece with an ack, which
 * bounds how much waits in its queue. Hashes live in the thread, named by id:
 * Node's native one (its state never leaves the thread) or hash-wasm's, whose
 * state the thread exports on request.
 */

/** The thread's code, evaluated in the worker: nothing to resolve or build next to dist/. */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
let engine = null;
const wasm = () => (engine ??= require(workerData.hashWasm).createSHA256());
let chain = Promise.resolve();
parentPort.on('message', (m) => {
  chain = chain.then(() => handle(m)).catch((err) => parentPort.postMessage({ seq: m.seq, error: String((err && err.message) || err) }));
});
async function handle(m) {
  if (m.op === 'native') {
    hashes.set(m.id, { native: createHash('sha256') });
  } else if (m.op === 'wasm') {
    const e = await wasm();
    let state;
    try {
      if (m.state) e.load(m.state); else e.init();
      state = e.save();
    } catch {
      parentPort.postMessage({ seq: m.seq, ok: false });
      return;
    }
    hashes.set(m.id, { state });
    parentPort.postMessage({ seq: m.seq, ok: true });
  } else if (m.op === 'update') {
    const h = hashes.get(m.id);
    if (h && h.native) h.native.update(m.data);
    else if (h) {
      const e = await wasm();
      e.load(h.state);
      e.update(m.data);
      h.state = e.save();
    }
    // The piece's buffer goes back with the ack, for the main thread to fill again.
    parentPort.postMessage({ ack: m.id, bytes: m.data.byteLength, buffer: m.data.buffer }, [m.data.buffer]);
  } else if (m.op === 'snapshot') {
    const h = hashes.get(m.id);
    if (!h) throw new Error('unknown hash ' + m.id);
    if (h.native) {
      parentPort.postMessage({ seq: m.seq, hex: h.native.copy().digest('hex'), state: null });
    } else {
      const e = await wasm();
      e.load(h.state);
      parentPort.postMessage({ seq: m.seq, hex: e.digest('hex'), state: h.state });
    }
  } else if (m.op === 'dispose') {
    hashes.delete(m.id);
  }
}
`;

type Reply =
  | { seq: number; ok: boolean }
  | { seq: number; hex: string; state: Uint8Array | null }
  | { seq: number; error: string }
  | { ack: number; bytes: number; buffer?: ArrayBuffer };

/**
 * Pieces are copied into buffers that travel to the thread and back with the ack, then are
 * filled again: a fresh copy per piece left ~64 MiB of detached garbage in the thread's
 * isolate (it allocates too little on its heap to collect it sooner), and a worker that
 * staged 2 GiB to S3 peaked at 236 MiB RSS against a 250 MiB limit (163-165 MiB with reuse).
 */
const PIECE_BYTES = 1024 * 1024;
/** Spare buffers kept for reuse: four hashers' full queues (upload-hasher.ts's MAX_QUEUED) of pieces. */
const MAX_SPARE_PIECES = 32;

export interface HashSnapshot {
  hex: string;
  /** hash-wasm's internal state; null for the native hash. */
  state: Uint8Array | null;
}

interface Queue {
  /** Bytes copied for the thread and not yet hashed by it (the piece being filled included). */
  bytes: number;
  waiters: Array<() => void>;
  /** The piece being filled: a socket read is often smaller than a piece, and each message costs both threads. */
  filling: { bytes: Uint8Array; length: number } | null;
}

export class HashThread {
  private worker: Worker | null = null;
  private nextId = 1;
  private nextSeq = 1;
  private readonly calls = new Map<number, { resolve(reply: Reply): void; reject(err: Error): void }>();
  private readonly queues = new Map<number, Queue>();
  /** Piece buffers back from the thread, to be filled again. */
  private readonly spare: ArrayBuffer[] = [];
  /** Piece buffers allocated so far (the rest were reused): bounded by the queues, not by the bytes hashed. */
  allocatedPieces = 0;
  /** Answers someone is waiting for: while any are, the thread keeps the process alive. */
  private awaited = 0;

  /** Opens a hash in the thread: native, or resumable (hash-wasm) from `state`. Null if the state cannot be loaded. */
  async open(kind: 'native' | 'wasm', state?: Uint8Array): Promise<number | null> {
    const id = this.nextId++;
    if (kind === 'native') {
      this.post({ op: 'native', id });
    } else {
      const reply = await this.call({ op: 'wasm', id, state });
      if (!('ok' in reply) || !reply.ok) return null;
    }
    this.queues.set(id, { bytes: 0, waiters: [], filling: null });
    return id;
  }

  /** Queues a copy of `data` for hash `id`, in pieces; returns the bytes now waiting in its queue. */
  update(id: number, data: Uint8Array): number {
    const q = this.queues.get(id);
    if (!q) return 0;
    for (let at = 0; at < data.byteLength;) {
      const piece = (q.filling ??= { bytes: new Uint8Array(this.spare.pop() ?? this.allocatePiece()), length: 0 });
      const take = Math.min(PIECE_BYTES - piece.length, data.byteLength - at);
      piece.bytes.set(data.subarray(at, at + take), piece.length);
      piece.length += take;
      at += take;
      q.bytes += take;
      if (piece.length === PIECE_BYTES) this.send(id, q);
    }
    return q.bytes;
  }

  /** Posts the piece being filled (the thread sees bytes in order: before any later message for the hash). */
  private send(id: number, q: Queue): void {
    const piece = q.filling;
    if (!piece) return;
    q.filling = null;
    this.post({ op: 'update', id, data: piece.bytes.subarray(0, piece.length) }, [piece.bytes.buffer as ArrayBuffer]);
  }

  /** Resolves once at most `bytes` of hash `id` wait in the thread's queue. */
  async drained(id: number, bytes: number): Promise<void> {
    const waiting = this.queues.get(id);
    if (waiting && waiting.bytes > bytes) this.send(id, waiting);
    for (;;) {
      const q = this.queues.get(id);
      if (!q || q.bytes <= bytes) return;
      await this.held(new Promise<void>((resolve) => q.waiters.push(resolve)));
    }
  }

  async snapshot(id: number): Promise<HashSnapshot> {
    const q = this.queues.get(id);
    if (q) this.send(id, q);
    const reply = await this.call({ op: 'snapshot', id });
    if (!('hex' in reply)) throw new Error('the hash thread answered a snapshot with no digest');
    return { hex: reply.hex, state: reply.state };
  }

  dispose(id: number): void {
    const q = this.queues.get(id);
    if (!q) return;
    if (q.filling) this.spare.push(q.filling.bytes.buffer as ArrayBuffer);
    this.queues.delete(id);
    this.post({ op: 'dispose', id });
  }

  /** Stops the thread; hashes in it are lost (their next snapshot fails). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }

  private allocatePiece(): ArrayBuffer {
    this.allocatedPieces++;
    return new ArrayBuffer(PIECE_BYTES);
  }

  private call(message: Record<string, unknown>): Promise<Reply> {
    const seq = this.nextSeq++;
    return this.held(
      new Promise((resolve, reject) => {
        this.calls.set(seq, { resolve, reject });
        this.post({ ...message, seq });
      }),
    );
  }

  /**
   * Keeps the process alive while `answer` is awaited: an idle thread is unref'd (it must not
   * hold a finished process open), but a process whose only work left is an answer from the
   * thread would otherwise exit before it arrives.
   */
  private async held<T>(answer: Promise<T>): Promise<T> {
    if (this.awaited++ === 0) this.worker?.ref();
    try {
      return await answer;
    } finally {
      if (--this.awaited === 0) this.worker?.unref();
    }
  }

  private post(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): void {
    this.thread().postMessage(message, transfer);
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(THREAD_SOURCE, { eval: true, workerData: { hashWasm: require.resolve('hash-wasm') } });
    worker.on('message', (reply: Reply) => this.receive(reply));
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const call of this.calls.values()) call.reject(err);
      this.calls.clear();
      // Hashes in the dead thread are gone: their writers must not wait for acks that never come.
      for (const q of this.queues.values()) for (const wake of q.waiters.splice(0)) wake();
      this.queues.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the hash thread exited (code ${code})`)));
    // Idle, it must not keep the process alive (tests, CLI commands); `held` refs it while an
    // answer is awaited. Unref'd after the listeners: attaching a 'message' listener refs the
    // worker's port again (a plain script that hashed once never exited).
    if (this.awaited === 0) worker.unref();
    this.worker = worker;
    return worker;
  }

  private receive(reply: Reply): void {
    if ('ack' in reply) {
      if (reply.buffer?.byteLength === PIECE_BYTES && this.spare.length < MAX_SPARE_PIECES) this.spare.push(reply.buffer);
      const q = this.queues.get(reply.ack);
      if (!q) return;
      q.bytes -= reply.bytes;
      for (const wake of q.waiters.splice(0)) wake();
      return;
    }
    const call = this.calls.get(reply.seq);
    if (!call) return;
    this.calls.delete(reply.seq);
    if ('error' in reply) call.reject(new Error(`hash thread: ${reply.error}`));
    else call.resolve(reply);
  }
}
