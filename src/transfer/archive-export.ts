import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { looksLikeDigest } from '../oci/digest';
import { INDEX_MEDIA_TYPES, MediaType } from '../oci/media-types';
import { parseManifest, type Descriptor } from '../oci/manifest';
import type { BlobInfo, BlobService } from '../registry/blob-service';
import type { ManifestService } from '../registry/manifest-service';
import { ArchiveInvalid } from './archive-errors';

export type ArchiveFormat = 'oci-archive' | 'docker-archive';

export interface ExportServices {
  blobs: Pick<BlobService, 'stat' | 'open'>;
  manifests: Pick<ManifestService, 'get'>;
}

interface LayoutManifest {
  digest: string;
  mediaType: string;
  content: Buffer;
}

/** An archive ready to stream: everything it names has been found, so a missing piece is an error before byte one. */
export interface ArchiveDownload {
  filename: string;
  stream: Readable;
}

/**
 * Exports an image as a tar (issue #21): an OCI image layout (`oci-archive`: the manifest, its platform
 * manifests and every blob, tagged in index.json), or the same layout with Docker's manifest.json beside it
 * (`docker-archive`, which `docker load` reads; one platform, chosen with `platform` when the tag names an
 * index). Blobs stream from storage into the tar one at a time: memory stays flat whatever the image's size.
 */
export class ArchiveExporter {
  constructor(private readonly services: ExportServices) {}

  async export(repository: string, reference: string, format: ArchiveFormat, platform = 'linux/amd64'): Promise<ArchiveDownload> {
    let top = await this.manifest(repository, reference);
    if (format === 'docker-archive' && INDEX_MEDIA_TYPES.has(top.mediaType)) top = await this.platformOf(repository, top, platform);
    const manifests: LayoutManifest[] = [];
    const blobs = new Map<string, BlobInfo>();
    await this.collect(repository, top, manifests, blobs, 0);
    const tag = looksLikeDigest(reference) ? null : reference;
    const index = {
      schemaVersion: 2,
      mediaType: MediaType.OCI_INDEX,
      manifests: [
        {
          mediaType: top.mediaType,
          digest: top.digest,
          size: top.content.length,
          ...(tag ? { annotations: { 'org.opencontainers.image.ref.name': tag } } : {}),
        },
      ],
    };
    const extra: Array<[string, Buffer]> = [
      ['oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')],
      ['index.json', Buffer.from(JSON.stringify(index))],
    ];
    if (format === 'docker-archive') extra.push(['manifest.json', dockerManifestJson(repository, tag, top)]);
    const tar = pack();
    void this.write(tar, manifests, blobs, extra).catch((err: unknown) => tar.destroy(err instanceof Error ? err : new Error(String(err))));
    const name = repository.replace(/\//g, '_') + (tag ? `_${tag}` : `_${top.digest.slice(7, 19)}`);
    return { filename: `${name}.${format === 'oci-archive' ? 'oci' : 'docker'}.tar`, stream: Readable.from(tar) };
  }

  private async manifest(repository: string, reference: string): Promise<LayoutManifest> {
    const stored = await this.services.manifests.get(repository, reference);
    return { digest: stored.digest, mediaType: stored.mediaType, content: stored.content };
  }

  private async platformOf(repository: string, index: LayoutManifest, platform: string): Promise<LayoutManifest> {
    const [os, architecture, variant] = platform.split('/');
    const child = parseManifest(index.content, index.mediaType).children.find(
      (c: Descriptor) =>
        c.platform?.os === os && c.platform?.architecture === architecture && (variant === undefined || c.platform?.variant === variant),
    );
    if (!child)
      throw new ArchiveInvalid(`${index.digest} has no ${platform} image; a docker-archive holds one platform (choose it with platform=)`);
    return this.manifest(repository, child.digest);
  }

  /** The manifest, its children (an index's platforms) and the blobs all of them name. */
  private async collect(repository: string, m: LayoutManifest, manifests: LayoutManifest[], blobs: Map<string, BlobInfo>, depth: number) {
    if (depth > 8 || manifests.some((x) => x.digest === m.digest)) return;
    manifests.push(m);
    const parsed = parseManifest(m.content, m.mediaType);
    for (const ref of parsed.references) {
      if (ref.kind === 'manifest') await this.collect(repository, await this.manifest(repository, ref.digest), manifests, blobs, depth + 1);
      else if (!blobs.has(ref.digest)) blobs.set(ref.digest, await this.services.blobs.stat(repository, ref.digest));
    }
  }

  private async write(
    tar: ReturnType<typeof pack>,
    manifests: LayoutManifest[],
    blobs: Map<string, BlobInfo>,
    extra: Array<[string, Buffer]>,
  ): Promise<void> {
    for (const [name, content] of extra) await entry(tar, name, content);
    for (const m of manifests) await entry(tar, blobPath(m.digest), m.content);
    // Stated once, in collect(): the archive's plan and what it streams are the same blobs.
    for (const [digest, info] of blobs) {
      const body = await this.services.blobs.open(info);
      const sink = tar.entry({ name: blobPath(digest), size: info.size, mode: 0o644, mtime: new Date(0) });
      const done = new Promise<void>((resolve, reject) => sink.once('finish', resolve).once('error', reject));
      for await (const chunk of body) {
        if (!sink.write(chunk as Buffer)) await once(sink, 'drain');
      }
      sink.end(null);
      await done;
    }
    tar.finalize();
  }
}

function entry(tar: ReturnType<typeof pack>, name: string, content: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    tar.entry({ name, size: content.length, mode: 0o644, mtime: new Date(0) }, content, (err) => (err ? reject(err) : resolve()));
  });
}

function blobPath(digest: string): string {
  return `blobs/${digest.replace(':', '/')}`;
}

/** Docker's manifest.json: the config, the layers in order and the image's name, as `docker save` writes it. */
function dockerManifestJson(repository: string, tag: string | null, image: LayoutManifest): Buffer {
  const parsed = parseManifest(image.content, image.mediaType);
  if (parsed.configDigest === null) throw new ArchiveInvalid(`${image.digest} is not an image (no config): export it as an oci-archive`);
  const layers = parsed.references.filter((r) => r.kind === 'blob' && r.digest !== parsed.configDigest).map((r) => blobPath(r.digest));
  return Buffer.from(
    JSON.stringify([{ Config: blobPath(parsed.configDigest), RepoTags: tag ? [`${repository}:${tag}`] : null, Layers: layers }]),
  );
}
