import { z } from 'zod';
import { ManifestInvalid } from './grammar-errors';
import { tryParseDigest } from './digest';
import { FOREIGN_LAYER_MEDIA_TYPES, INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, MediaType } from './media-types';

/** The spec's suggested ceiling; Berth refuses larger manifests before parsing them. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const digestString = z.string().refine((d) => tryParseDigest(d) !== null, { message: 'invalid digest' });

const descriptorSchema = z.object({
  mediaType: z.string().min(1),
  digest: digestString,
  size: z.number().int().nonnegative(),
  urls: z.array(z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  artifactType: z.string().optional(),
  platform: z
    .object({
      architecture: z.string(),
      os: z.string(),
      variant: z.string().optional(),
      'os.version': z.string().optional(),
      'os.features': z.array(z.string()).optional(),
    })
    .optional(),
});
export type Descriptor = z.infer<typeof descriptorSchema>;

const imageManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
  subject: descriptorSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

const indexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  manifests: z.array(descriptorSchema),
  subject: descriptorSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

const artifactManifestSchema = z.object({
  mediaType: z.literal(MediaType.OCI_ARTIFACT_MANIFEST),
  artifactType: z.string().optional(),
  blobs: z.array(descriptorSchema).optional(),
  subject: descriptorSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

export interface ManifestReference {
  digest: string;
  kind: 'blob' | 'manifest';
}

/** What the index needs to know about a manifest, derived once at push. */
export interface ParsedManifest {
  mediaType: string;
  artifactType: string | null;
  configDigest: string | null;
  configMediaType: string | null;
  subject: string | null;
  annotations: Record<string, string> | null;
  /** Blobs and child manifests that must exist in the repository. */
  references: ManifestReference[];
  /** Children of an index, with their platforms: used for Accept fallbacks and the UI. */
  children: Descriptor[];
}

function invalid(detail: string): ManifestInvalid {
  return new ManifestInvalid(detail);
}

function issuesText(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** The media type a Content-Type header names, without parameters. */
export function baseMediaType(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  const base = contentType.split(';')[0]?.trim().toLowerCase();
  return base || undefined;
}

/**
 * Validates a manifest body against the image-spec and decides its media
 * type: the body's `mediaType` when present (and then the Content-Type must
 * agree), otherwise the Content-Type.
 */
export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalid('manifest is not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid('manifest must be a JSON object');
  const record = json as Record<string, unknown>;
  const declared = typeof record.mediaType === 'string' ? record.mediaType : undefined;
  const headerType = baseMediaType(contentType);
  if (declared && headerType && MANIFEST_MEDIA_TYPES.has(headerType) && declared !== headerType) {
    throw invalid(`Content-Type ${headerType} does not match the manifest's mediaType ${declared}`);
  }
  const mediaType = declared ?? headerType;
  if (mediaType === MediaType.DOCKER_SCHEMA1 || mediaType === MediaType.DOCKER_SCHEMA1_SIGNED) {
    throw invalid('Docker schema 1 manifests are not supported; push schema 2 or OCI');
  }
  if (!mediaType || !MANIFEST_MEDIA_TYPES.has(mediaType)) {
    // An OCI manifest may omit mediaType; tell it apart by its shape.
    if (!declared && Array.isArray(record.manifests)) return parseIndex(record, MediaType.OCI_INDEX);
    if (!declared && typeof record.config === 'object') return parseImage(record, MediaType.OCI_MANIFEST);
    throw invalid(`unsupported manifest media type: ${mediaType ?? '(none)'}`);
  }
  if (mediaType === MediaType.OCI_ARTIFACT_MANIFEST) return parseArtifact(record);
  if (INDEX_MEDIA_TYPES.has(mediaType)) return parseIndex(record, mediaType);
  return parseImage(record, mediaType);
}

function parseImage(record: Record<string, unknown>, mediaType: string): ParsedManifest {
  const result = imageManifestSchema.safeParse(record);
  if (!result.success) throw invalid(issuesText(result.error));
  const m = result.data;
  if (mediaType === MediaType.DOCKER_MANIFEST && m.mediaType === undefined) {
    throw invalid('Docker schema 2 manifests must declare mediaType');
  }
  const references: ManifestReference[] = [{ digest: m.config.digest, kind: 'blob' }];
  for (const layer of m.layers) {
    if (FOREIGN_LAYER_MEDIA_TYPES.has(layer.mediaType) && layer.urls && layer.urls.length > 0) continue;
    references.push({ digest: layer.digest, kind: 'blob' });
  }
  return {
    mediaType,
    artifactType: m.artifactType ?? null,
    configDigest: m.config.digest,
    configMediaType: m.config.mediaType,
    subject: m.subject?.digest ?? null,
    annotations: m.annotations ?? null,
    references: dedupe(references),
    children: [],
  };
}

function parseIndex(record: Record<string, unknown>, mediaType: string): ParsedManifest {
  const result = indexSchema.safeParse(record);
  if (!result.success) throw invalid(issuesText(result.error));
  const m = result.data;
  return {
    mediaType,
    artifactType: m.artifactType ?? null,
    configDigest: null,
    configMediaType: null,
    subject: m.subject?.digest ?? null,
    annotations: m.annotations ?? null,
    references: dedupe(m.manifests.map((d) => ({ digest: d.digest, kind: 'manifest' as const }))),
    children: m.manifests,
  };
}

function parseArtifact(record: Record<string, unknown>): ParsedManifest {
  const result = artifactManifestSchema.safeParse(record);
  if (!result.success) throw invalid(issuesText(result.error));
  const m = result.data;
  return {
    mediaType: MediaType.OCI_ARTIFACT_MANIFEST,
    artifactType: m.artifactType ?? null,
    configDigest: null,
    configMediaType: null,
    subject: m.subject?.digest ?? null,
    annotations: m.annotations ?? null,
    references: dedupe((m.blobs ?? []).map((d) => ({ digest: d.digest, kind: 'blob' as const }))),
    children: [],
  };
}

function dedupe(refs: ManifestReference[]): ManifestReference[] {
  const seen = new Set<string>();
  return refs.filter((r) => {
    const key = `${r.kind}:${r.digest}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
