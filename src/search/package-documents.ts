import type { Readable } from 'node:stream';
import type { DownloadStore } from '../downloads/download-store';
import { utcDay } from '../downloads/download-store';
import type { MetadataIndex } from '../metadata/metadata-index';
import type { VersionRecord } from '../metadata/versions';
import { INDEX_MEDIA_TYPES, MediaType } from '../oci/media-types';
import type { PackageFacts } from './package-catalog';
import type { SearchDocument } from './search-index';

/** Image configs are small JSON: a bigger one is not read, and the package is indexed without its labels. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** The newest versions read for tags and digests: a package with more is found by its newest ones. */
const MAX_VERSIONS = 1000;
/** Tagged versions whose index manifests give platforms. */
const PLATFORM_VERSIONS = 10;
const MAX_LABELS = 64;
const MAX_LABEL_KEY_CHARS = 256;
const MAX_LABEL_VALUE_CHARS = 1024;
const MAX_DESCRIPTION_CHARS = 2048;
const DESCRIPTION = 'org.opencontainers.image.description';
const IMAGE_CONFIG_TYPES: ReadonlySet<string> = new Set([MediaType.OCI_CONFIG, MediaType.DOCKER_CONFIG]);

export interface DocumentSources {
  versions: Pick<MetadataIndex, 'listVersions' | 'getManifest'>;
  /** Streams a blob (an image config). */
  openBlob(digest: string): Promise<Readable>;
  downloads: Pick<DownloadStore, 'daily'>;
  /** How long a config read may take before the package is indexed without its labels. */
  configTimeoutMs?: number;
  clock?: () => number;
}

interface Descriptor {
  mediaType?: unknown;
  digest?: unknown;
  size?: unknown;
  platform?: { os?: unknown; architecture?: unknown; variant?: unknown };
}

interface ManifestJson {
  mediaType?: unknown;
  config?: Descriptor;
  manifests?: Descriptor[];
  annotations?: Record<string, unknown>;
}

/**
 * Builds a package's search document from the metadata index (versions,
 * tags, manifests), its latest image config (labels, platform) and the
 * download counts. Everything read from a manifest or config was written by
 * a pusher: only strings are kept, sizes are bounded, NULs are dropped.
 */
export class PackageDocuments {
  private readonly clock: () => number;

  constructor(private readonly sources: DocumentSources) {
    this.clock = sources.clock ?? Date.now;
  }

  async build(pkg: PackageFacts): Promise<SearchDocument> {
    // Read before anything else: a change committed after this instant is indexed again with a later stamp.
    const indexedAt = this.clock();
    const { versions } = await this.sources.versions.listVersions(pkg.name, { state: 'active', limit: MAX_VERSIONS });
    const tagged = versions.filter((v) => v.tags.length > 0).sort((a, b) => b.updatedAt - a.updatedAt);
    const latest = tagged.find((v) => v.tags.includes('latest')) ?? tagged[0] ?? versions.find((v) => v.subject === null);
    const latestTag =
      latest === undefined || latest.tags.length === 0 ? null : latest.tags.includes('latest') ? 'latest' : [...latest.tags].sort()[0]!;
    const platforms = new Set<string>();
    const allLabels = latest ? await this.labelsOf(pkg.name, latest, platforms) : {};
    for (const v of tagged.slice(0, PLATFORM_VERSIONS)) {
      if (v !== latest && INDEX_MEDIA_TYPES.has(v.mediaType)) await this.indexPlatforms(pkg.name, v.digest, platforms);
    }
    const description = allLabels[DESCRIPTION];
    return {
      name: pkg.name,
      owner: pkg.owner,
      ownerKind: pkg.ownerKind,
      ownerId: pkg.ownerId,
      repository: pkg.repository,
      visibility: pkg.visibility,
      description: description === undefined ? null : description.replace(/\0/g, '').slice(0, MAX_DESCRIPTION_CHARS),
      labels: boundedLabels(allLabels),
      tags: [...new Set(versions.flatMap((v) => v.tags))],
      platforms: [...platforms],
      digests: versions.map((v) => v.digest),
      downloads: await this.downloads(pkg.name, indexedAt),
      updatedAt: Math.max(pkg.createdAt, ...versions.map((v) => v.updatedAt)),
      latestTag,
      indexedAt,
    };
  }

  /** Downloads of the package in the 30 UTC days up to `now`'s. */
  async downloads(name: string, now = this.clock()): Promise<number> {
    const today = utcDay(now);
    const daily = await this.sources.downloads.daily(name, today - 29, today);
    return daily.reduce((sum, d) => sum + d.count, 0);
  }

  /** The latest change the metadata index shows: the newest update or delete among the newest versions. */
  async lastChange(name: string): Promise<number> {
    const [active, deleted] = await Promise.all([
      this.sources.versions.listVersions(name, { state: 'active', limit: 20 }),
      this.sources.versions.listVersions(name, { state: 'deleted', limit: 20 }),
    ]);
    return Math.max(0, ...active.versions.map((v) => v.updatedAt), ...deleted.versions.map((v) => v.deletedAt ?? v.updatedAt));
  }

  /** Config labels overlaid with the manifest's annotations (an index's, and its first platform image's config). */
  private async labelsOf(name: string, version: VersionRecord, platforms: Set<string>): Promise<Record<string, string>> {
    const manifest = await this.manifest(name, version.digest);
    if (!manifest) return {};
    let image = manifest;
    if (Array.isArray(manifest.manifests)) {
      addIndexPlatforms(manifest, platforms);
      // buildx lists attestations as platform unknown/unknown: the first real platform's image speaks for the index.
      const child = manifest.manifests.find((m) => typeof m.digest === 'string' && str(m.platform?.os) !== 'unknown');
      image = (typeof child?.digest === 'string' ? await this.manifest(name, child.digest) : null) ?? {};
    }
    const config = await this.config(image.config);
    for (const p of config.platforms) platforms.add(p);
    return { ...config.labels, ...strings(image.annotations), ...strings(manifest.annotations) };
  }

  private async indexPlatforms(name: string, digest: string, platforms: Set<string>): Promise<void> {
    const manifest = await this.manifest(name, digest);
    if (manifest) addIndexPlatforms(manifest, platforms);
  }

  private async manifest(name: string, digest: string): Promise<ManifestJson | null> {
    const stored = await this.sources.versions.getManifest(name, digest);
    if (!stored) return null;
    try {
      const parsed: unknown = JSON.parse(stored.content.toString('utf8'));
      return typeof parsed === 'object' && parsed !== null ? parsed : null;
    } catch {
      return null;
    }
  }

  /** An image config's labels and platform; nothing for another config type, a big one, or a slow read. */
  private async config(descriptor: Descriptor | undefined): Promise<{ labels: Record<string, string>; platforms: string[] }> {
    const none = { labels: {}, platforms: [] };
    if (!descriptor || typeof descriptor.digest !== 'string' || !IMAGE_CONFIG_TYPES.has(str(descriptor.mediaType))) return none;
    if (typeof descriptor.size !== 'number' || descriptor.size > MAX_CONFIG_BYTES) return none;
    const bytes = await readBounded(
      () => this.sources.openBlob(descriptor.digest as string),
      MAX_CONFIG_BYTES,
      this.sources.configTimeoutMs ?? 5_000,
    );
    if (!bytes) return none;
    try {
      const config = JSON.parse(bytes.toString('utf8')) as {
        os?: unknown;
        architecture?: unknown;
        variant?: unknown;
        config?: { Labels?: Record<string, unknown> };
      };
      return { labels: strings(config.config?.Labels), platforms: platformsOf(config) };
    } catch {
      return none;
    }
  }
}

function addIndexPlatforms(index: ManifestJson, platforms: Set<string>): void {
  for (const m of index.manifests ?? []) {
    if (!m.platform || str(m.platform.os) === 'unknown') continue;
    for (const p of platformsOf(m.platform)) platforms.add(p);
  }
}

/** `os/arch`, and `os/arch/variant` too when there is a variant (so `platform:linux/arm64` finds arm64/v8); lowercase. */
function platformsOf(p: { os?: unknown; architecture?: unknown; variant?: unknown }): string[] {
  const part = (value: unknown) => (/^[a-z0-9._-]{1,64}$/.test(str(value).toLowerCase()) ? str(value).toLowerCase() : null);
  const os = part(p.os);
  const arch = part(p.architecture);
  if (os === null || arch === null) return [];
  const variant = part(p.variant);
  return variant === null ? [`${os}/${arch}`] : [`${os}/${arch}`, `${os}/${arch}/${variant}`];
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** The string values of a pusher's map; anything else is dropped. */
function strings(map: Record<string, unknown> | undefined | null): Record<string, string> {
  if (typeof map !== 'object' || map === null || Array.isArray(map)) return {};
  // fromEntries defines own properties: a `__proto__` key stays a label, never a prototype.
  return Object.fromEntries(Object.entries(map).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** At most MAX_LABELS labels of bounded size, without NULs (PostgreSQL text refuses them). */
function boundedLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(labels)
      .map(([k, v]) => [k.replace(/\0/g, ''), v.replace(/\0/g, '').slice(0, MAX_LABEL_VALUE_CHARS)] as const)
      .filter(([k]) => k.length > 0 && k.length <= MAX_LABEL_KEY_CHARS)
      .slice(0, MAX_LABELS),
  );
}

/**
 * A small blob's bytes (an image config), or null when it is bigger than `max`, slower than `timeoutMs`
 * or breaks off mid-read: a pusher's blob must not hold a request or the indexer. Failing to open it throws.
 */
export async function readBounded(open: () => Promise<Readable>, max: number, timeoutMs: number): Promise<Buffer | null> {
  const stream = await open();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => {
      stream.destroy();
      resolve(null);
    }, timeoutMs);
  });
  const read = (async () => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > max) {
        stream.destroy();
        return null;
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  })().catch(() => null);
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
