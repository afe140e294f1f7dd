import { createHash, type Hash } from 'node:crypto';
import { DigestInvalid } from './grammar-errors';

/** Algorithms Berth verifies (image-spec descriptor.md: sha256 required, sha512 optional). */
export const DIGEST_ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS;

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
  /** `algorithm:hex`, the canonical string form. */
  value: string;
}

const DIGEST_GRAMMAR = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

/** Parses a digest string or returns null; never throws. */
export function tryParseDigest(input: string): ParsedDigest | null {
  const m = DIGEST_GRAMMAR.exec(input);
  if (!m) return null;
  const algorithm = m[1] as string;
  const hex = m[2] as string;
  if (!(algorithm in DIGEST_ALGORITHMS)) return null;
  const alg = algorithm as DigestAlgorithm;
  if (hex.length !== DIGEST_ALGORITHMS[alg] || !/^[a-f0-9]+$/.test(hex)) return null;
  return { algorithm: alg, hex, value: `${alg}:${hex}` };
}

/** Parses a digest the client sent, raising DIGEST_INVALID (400) when it is malformed or unsupported. */
export function parseDigest(input: string | undefined): ParsedDigest {
  if (input === undefined || input === '') throw new DigestInvalid('digest is required');
  const parsed = tryParseDigest(input);
  if (!parsed) throw new DigestInvalid(`invalid or unsupported digest: ${input}`);
  return parsed;
}

export function looksLikeDigest(reference: string): boolean {
  return reference.includes(':');
}

export function newHash(algorithm: DigestAlgorithm = 'sha256'): Hash {
  return createHash(algorithm);
}

export function digestOf(content: Buffer, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(content).digest('hex')}`;
}
