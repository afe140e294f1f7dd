import type { Actor } from '../auth/management/actor';
import type { PackageSummary, PackageVersionService, VersionView } from '../auth/management/package-version-service';
import type { DownloadDay, DownloadService } from '../downloads/download-service';
import type { MetadataIndex } from '../metadata/metadata-index';
import type { Platform, VersionFacts, VersionRecord } from '../metadata/versions';
import { INDEX_MEDIA_TYPES } from '../oci/media-types';
import { descriptors, num, str, type ImageConfig, type ImageReader, type ManifestJson } from './image-reader';

/** Root versions a package page lists at a time. */
export const VERSIONS_PER_PAGE = 30;
/** Tagged versions whose tags the picker offers; a package with more offers its newest ones. */
const MAX_TAGGED = 100;

/** One node of the versions tree: a version, its platform children (for an index) and its referrers. */
export interface VersionNode {
  version: VersionRecord;
  facts: VersionFacts;
  /** For an index's child: the platform the index lists it under. */
  platform: Platform | null;
  children: VersionNode[];
}

export interface PackagePage {
  summary: PackageSummary;
  labels: Record<string, string>;
  /** Every tag of the newest tagged versions, newest first. */
  tags: string[];
  /** The tag the install command names, or null when nothing is tagged (then `digest`). */
  tag: string | null;
  digest: string | null;
  roots: VersionNode[];
  page: number;
  pages: number;
  downloads: { total: number; daily: DownloadDay[] };
}

export interface VersionPage {
  summary: PackageSummary;
  version: VersionView;
  manifest: ManifestJson | null;
  config: ImageConfig | null;
  /** For an index: its children with their versions (null when not in the repository). */
  children: Array<{ digest: string; platform: Platform | null; size: number; id: number | null }>;
}

export interface PackagePagesDependencies {
  packages: PackageVersionService;
  index: Pick<MetadataIndex, 'listVersions' | 'versionFacts'>;
  images: ImageReader;
  downloads?: Pick<DownloadService<Actor>, 'dailySeries' | 'packageTotal'>;
}

/**
 * What the package and version pages show, read through the same services as
 * the API: the package service decides who may see it (what they may not is
 * PackageNotFound), then the metadata index gives one page of versions and
 * their facts (one query for the page's facts, and one per index child).
 */
export class PackagePages {
  constructor(private readonly deps: PackagePagesDependencies) {}

  async packagePage(
    actor: Actor,
    owner: string,
    kind: 'user' | 'org',
    name: string,
    page: number,
    wantedTag?: string,
  ): Promise<PackagePage> {
    const at = { owner: await this.deps.packages.owner(owner, kind), name };
    const summary = await this.deps.packages.getPackage(actor, at);
    const fullName = summary.fullName;
    const [{ versions, total }, tagged, downloads] = await Promise.all([
      this.deps.packages.listVersions(actor, at, { state: 'active', offset: (page - 1) * VERSIONS_PER_PAGE, limit: VERSIONS_PER_PAGE }),
      this.deps.index.listVersions(fullName, { state: 'active', tagged: true, limit: MAX_TAGGED }),
      this.downloads(fullName),
    ]);
    const byUpdate = [...tagged.versions].sort((a, b) => b.updatedAt - a.updatedAt);
    const tags = [...new Set(byUpdate.flatMap((v) => v.tags))];
    const latest = byUpdate.find((v) => v.tags.includes('latest')) ?? byUpdate[0];
    const tag =
      wantedTag !== undefined && tags.includes(wantedTag)
        ? wantedTag
        : latest
          ? latest.tags.includes('latest')
            ? 'latest'
            : latest.tags[0]!
          : null;
    const labelled = latest ?? versions.find((v) => v.subject === null);
    const labels = labelled ? await this.deps.images.labels(fullName, labelled.digest) : {};
    return {
      summary,
      labels,
      tags,
      tag,
      digest: labelled?.digest ?? null,
      roots: await this.tree(fullName, versions),
      page,
      pages: Math.max(1, Math.ceil(total / VERSIONS_PER_PAGE)),
      downloads,
    };
  }

  async versionPage(actor: Actor, owner: string, kind: 'user' | 'org', name: string, id: number): Promise<VersionPage> {
    const at = { owner: await this.deps.packages.owner(owner, kind), name };
    const summary = await this.deps.packages.getPackage(actor, at);
    const version = await this.deps.packages.getVersion(actor, at, id);
    const manifest = await this.deps.images.manifest(summary.fullName, version.digest);
    const children: VersionPage['children'] = [];
    for (const d of descriptors(manifest?.manifests)) {
      const digest = str(d.digest);
      const [child] = (await this.deps.index.listVersions(summary.fullName, { state: 'active', digest, limit: 1 })).versions;
      children.push({ digest, platform: platformOf(d.platform), size: num(d.size), id: child?.id ?? null });
    }
    const config = manifest && children.length === 0 ? await this.deps.images.config(manifest.config) : null;
    return { summary, version, manifest, config, children };
  }

  /**
   * The page's versions as a tree: roots are those no live index contains and that refer to nothing;
   * an index's children hang under it (read from its manifest, so a child on another page is still shown);
   * referrers hang under what they refer to, from the facts.
   */
  private async tree(name: string, versions: VersionView[]): Promise<VersionNode[]> {
    const roots: VersionNode[] = [];
    for (const v of versions) {
      if (v.facts.parents.length > 0 || v.subject !== null) continue;
      roots.push({
        version: v,
        facts: v.facts,
        platform: null,
        children: INDEX_MEDIA_TYPES.has(v.mediaType) ? await this.children(name, v) : [],
      });
    }
    return roots;
  }

  private async children(name: string, index: VersionRecord): Promise<VersionNode[]> {
    const manifest = await this.deps.images.manifest(name, index.digest);
    const listed = descriptors(manifest?.manifests);
    const found: Array<{ version: VersionRecord; platform: Platform | null }> = [];
    for (const d of listed) {
      const digest = str(d.digest);
      if (!digest) continue;
      const [version] = (await this.deps.index.listVersions(name, { state: 'active', digest, limit: 1 })).versions;
      if (version) found.push({ version, platform: platformOf(d.platform) });
    }
    const facts = await this.deps.index.versionFacts(found.map((f) => f.version));
    return found.map((f, i) => ({ version: f.version, facts: facts[i]!, platform: f.platform, children: [] }));
  }

  private async downloads(name: string): Promise<PackagePage['downloads']> {
    if (!this.deps.downloads) return { total: 0, daily: [] };
    const [total, daily] = await Promise.all([this.deps.downloads.packageTotal(name), this.deps.downloads.dailySeries(name)]);
    return { total, daily };
  }
}

function platformOf(p: { os?: unknown; architecture?: unknown; variant?: unknown } | undefined): Platform | null {
  if (!p || typeof p.os !== 'string' || typeof p.architecture !== 'string') return null;
  return { os: p.os, architecture: p.architecture, ...(typeof p.variant === 'string' ? { variant: p.variant } : {}) };
}
