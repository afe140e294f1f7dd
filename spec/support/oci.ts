import { createHash } from 'node:crypto';
import { MediaType } from '../../src/oci/media-types';

export interface TestBlob {
  content: Buffer;
  digest: string;
  size: number;
}

export interface TestDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string };
}

export function sha256(content: Buffer | string): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

export function sha512(content: Buffer | string): string {
  return `sha512:${createHash('sha512').update(content).digest('hex')}`;
}

export function blob(content: Buffer | string): TestBlob {
  const buf = Buffer.isBuffer(content) ? content : Buffer.from(content);
  return { content: buf, digest: sha256(buf), size: buf.length };
}

/** A digest of nothing any test pushes. */
export function unknownDigest(seed = 'unknown'): string {
  return sha256(`never pushed: ${seed}`);
}

export function descriptor(b: TestBlob, mediaType: string, extra: Partial<TestDescriptor> = {}): TestDescriptor {
  return { mediaType, digest: b.digest, size: b.size, ...extra };
}

/** The empty JSON config artifacts use (image-spec "Guidance for an Empty Descriptor"). */
export const EMPTY_CONFIG = blob('{}');

export interface ImageManifestOptions {
  mediaType?: string | null;
  artifactType?: string;
  config: TestDescriptor;
  layers?: TestDescriptor[];
  subject?: TestDescriptor;
  annotations?: Record<string, string>;
}

/** An image manifest object; `mediaType: null` leaves the field out. */
export function imageManifest(o: ImageManifestOptions): Record<string, unknown> {
  const m: Record<string, unknown> = { schemaVersion: 2 };
  if (o.mediaType !== null) m.mediaType = o.mediaType ?? MediaType.OCI_MANIFEST;
  if (o.artifactType !== undefined) m.artifactType = o.artifactType;
  m.config = o.config;
  m.layers = o.layers ?? [];
  if (o.subject) m.subject = o.subject;
  if (o.annotations) m.annotations = o.annotations;
  return m;
}

export function imageIndex(
  manifests: TestDescriptor[],
  o: { mediaType?: string; subject?: TestDescriptor; artifactType?: string } = {},
): Record<string, unknown> {
  const m: Record<string, unknown> = { schemaVersion: 2, mediaType: o.mediaType ?? MediaType.OCI_INDEX, manifests };
  if (o.artifactType !== undefined) m.artifactType = o.artifactType;
  if (o.subject) m.subject = o.subject;
  return m;
}

/** Serialized manifest bytes with their digest and a descriptor for referring to them. */
export function serialize(manifest: Record<string, unknown>, mediaType?: string) {
  const content = Buffer.from(JSON.stringify(manifest));
  const type = mediaType ?? (manifest.mediaType as string | undefined) ?? MediaType.OCI_MANIFEST;
  return {
    content,
    digest: sha256(content),
    size: content.length,
    mediaType: type,
    descriptor: (extra: Partial<TestDescriptor> = {}): TestDescriptor => ({
      mediaType: type,
      digest: sha256(content),
      size: content.length,
      ...extra,
    }),
  };
}
