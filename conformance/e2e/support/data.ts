// Deterministic test data: addressable pseudo-random bytes, so that big bodies can be streamed,
// re-generated from any offset (for resumed uploads) and hashed without ever being held in memory.
import { createHash, randomBytes } from 'node:crypto';

export const KiB = 1024;
export const MiB = 1024 * KiB;

const BLOCK = 64 * KiB;

/** Block `index` of the pattern for `seed`: an xorshift32 stream seeded from (seed, index). */
function patternBlock(seed: number, index: number): Buffer {
  const words = new Uint32Array(BLOCK / 4);
  let x = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
  if (x === 0) x = 0x6d2b79f5;
  for (let i = 0; i < words.length; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    words[i] = x;
  }
  return Buffer.from(words.buffer);
}

/** Yields the pattern bytes [start, end) in chunks of at most `chunk` bytes. */
export async function* patternChunks(seed: number, start: number, end: number, chunk = 256 * KiB): AsyncGenerator<Buffer> {
  let pos = start;
  let cachedIndex = -1;
  let cached: Buffer = Buffer.alloc(0);
  while (pos < end) {
    const out = Buffer.allocUnsafe(Math.min(chunk, end - pos));
    let filled = 0;
    while (filled < out.length) {
      const index = Math.floor(pos / BLOCK);
      if (index !== cachedIndex) {
        cached = patternBlock(seed, index);
        cachedIndex = index;
      }
      const within = pos - index * BLOCK;
      const n = Math.min(BLOCK - within, out.length - filled);
      cached.copy(out, filled, within, within + n);
      filled += n;
      pos += n;
    }
    yield out;
  }
}

/** The pattern bytes [start, end) as one buffer (for small slices only). */
export async function patternSlice(seed: number, start: number, end: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of patternChunks(seed, start, end)) parts.push(c);
  return Buffer.concat(parts);
}

/** sha256 digest ("sha256:<hex>") of the pattern bytes [0, size). */
export async function patternDigest(seed: number, size: number): Promise<string> {
  const h = createHash('sha256');
  for await (const c of patternChunks(seed, 0, size, MiB)) h.update(c);
  return `sha256:${h.digest('hex')}`;
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Random bytes, so that content pushed by one run never collides with another run's. */
export function uniqueBytes(n: number): Buffer {
  return randomBytes(n);
}

/** Short unique id for repository names in this run (lowercase, valid in OCI names). */
export const RUN_ID = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

export function repoName(suffix: string): string {
  return `e2e-${RUN_ID}/${suffix}`;
}
