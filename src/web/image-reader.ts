import type { Readable } from 'node:stream';
import type { MetadataIndex } from '../metadata/metadata-index';
import { MediaType } from '../oci/media-types';
import { MAX_CONFIG_BYTES, readBounded } from '../search/package-documents';

/** A descriptor as a pusher wrote it: every field may be missing or of the wrong type. */
export interface Descriptor {
  mediaType?: unknown;
  digest?: unknown;
  size?: unknown;
  artifactType?: unknown;
  platform?: { os?: unknown; architecture?: unknown; variant?: unknown };
  annotations?: unknown;
}

export interface ManifestJson {
  mediaType?: unknown;
  artifactType?: unknown;
  config?: Descriptor;
  layers?: unknown;
  manifests?: unknown;
  annotations?: unknown;
}

/** The parts of an image config the version page shows. */
export interface ImageConfig {
  os?: unknown;
  architecture?: unknown;
  created?: unknown;
  config?: {
    Entrypoint?: unknown;
    Cmd?: unknown;
    Env?: unknown;
    ExposedPorts?: unknown;
    Labels?: unknown;
    WorkingDir?: unknown;
    User?: unknown;
  };
  history?: unknown;
}

const IMAGE_CONFIG_TYPES: ReadonlySet<string> = new Set([MediaType.OCI_CONFIG, MediaType.DOCKER_CONFIG]);
/** A config read for a page may hold it this long; after that the page shows the manifest alone. */
const CONFIG_TIMEOUT_MS = 2_000;

export interface ImageSources {
  index: Pick<MetadataIndex, 'getManifest'>;
  openBlob(digest: string): Promise<Readable>;
}

/**
 * Reads manifests and image configs for the pages, after the page checked the
 * viewer may pull the package. What it returns is a pusher's JSON: callers
 * keep strings only and escape them.
 */
export class ImageReader {
  constructor(private readonly sources: ImageSources) {}

  async manifest(name: string, digest: string): Promise<ManifestJson | null> {
    const stored = await this.sources.index.getManifest(name, digest);
    if (!stored) return null;
    return parseObject(stored.content);
  }

  /** An image config (OCI or Docker), or null for another config type, a big one, or a slow read. */
  async config(descriptor: Descriptor | undefined): Promise<ImageConfig | null> {
    if (!descriptor || typeof descriptor.digest !== 'string' || !IMAGE_CONFIG_TYPES.has(str(descriptor.mediaType))) return null;
    if (typeof descriptor.size !== 'number' || descriptor.size > MAX_CONFIG_BYTES) return null;
    const digest = descriptor.digest;
    const bytes = await readBounded(() => this.sources.openBlob(digest), MAX_CONFIG_BYTES, CONFIG_TIMEOUT_MS).catch(() => null);
    return bytes ? parseObject(bytes) : null;
  }

  /**
   * Labels and annotations of a version as one map (annotations win): for an
   * index, its own annotations over its first real platform's.
   */
  async labels(name: string, digest: string): Promise<Record<string, string>> {
    const manifest = await this.manifest(name, digest);
    if (!manifest) return {};
    let image = manifest;
    const children = descriptors(manifest.manifests);
    if (children.length > 0) {
      const child = children.find((m) => typeof m.digest === 'string' && str(m.platform?.os) !== 'unknown');
      image = (typeof child?.digest === 'string' ? await this.manifest(name, child.digest) : null) ?? {};
    }
    const config = await this.config(image.config);
    return { ...strings(config?.config?.Labels), ...strings(image.annotations), ...strings(manifest.annotations) };
  }
}

function parseObject(bytes: Buffer): object | null {
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/** The descriptors of a list a pusher wrote, objects only. */
export function descriptors(value: unknown): Descriptor[] {
  return Array.isArray(value) ? value.filter((d): d is Descriptor => typeof d === 'object' && d !== null) : [];
}

/** String values only, into a prototype-less map (a `__proto__` key is just a key). */
export function strings(value: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (typeof value !== 'object' || value === null) return out;
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

export function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

export function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}
