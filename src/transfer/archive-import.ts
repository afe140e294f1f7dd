import { createHash } from 'node:crypto';
import { PassThrough, Readable, Transform, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import type { EventActor } from '../events/registry-events';
import { isValidTag } from '../oci/reference';
import { MANIFEST_MEDIA_TYPES, MediaType } from '../oci/media-types';
import { MAX_MANIFEST_BYTES, parseManifest } from '../oci/manifest';
import type { BlobService } from '../registry/blob-service';
import type { ManifestService } from '../registry/manifest-service';
import type { UploadService } from '../registry/upload-service';
import { ArchiveInvalid } from './archive-errors';

/** Every blob entry of an OCI image layout: `blobs/<algorithm>/<hex>`. */
const BLOB_ENTRY = /^blobs\/(sha256\/[a-f0-9]{64}|sha512\/[a-f0-9]{128})$/;
/** Small entries that may be manifests wait in memory until index.json says which are; at most this much in all. */
const MAX_HELD_BYTES = 32 * 1024 * 1024;
/** index.json, oci-layout, manifest.json, repositories: small JSON files. */
const MAX_METADATA_BYTES = 1024 * 1024;
/** A gzip stream may expand this many times (plus the slack below) before it is taken for a bomb. */
const MAX_GUNZIP_RATIO = 100;
const GUNZIP_SLACK_BYTES = 64 * 1024 * 1024;

export interface ImportServices {
  uploads: Pick<UploadService, 'monolithic' | 'start' | 'append' | 'complete' | 'cancel'>;
  blobs: Pick<BlobService, 'stat' | 'delete'>;
  manifests: Pick<ManifestService, 'put'>;
}

export interface ImportedImage {
  digest: string;
  mediaType: string;
  tags: string[];
}

export interface ImportResult {
  repository: string;
  images: ImportedImage[];
  blobs: { uploaded: number; alreadyPresent: number };
}

/** What the archive held, once read to its end: blobs stored and linked, manifests and the layout's index waiting. */
export interface StagedImport {
  repository: string;
  /** Blobs this import linked into the repository (unlinked again if the import fails). */
  linked: string[];
  alreadyPresent: number;
  /** Small blob entries that may be manifests, by digest. */
  held: Map<string, Buffer>;
  index: Buffer | null;
  /** Legacy docker-archive (Docker before 25): entries by path, small ones held, large ones stored as they came. */
  legacy: Map<string, { held: Buffer } | { digest: string; size: number }>;
  sawLegacyManifest: boolean;
}

/**
 * Imports an image archive into a repository (issue #21): an OCI image layout as a tar (`oci-archive`,
 * and what `docker save` writes since Docker 25: the layout plus a manifest.json), or a legacy docker-archive
 * (manifest.json, <id>.json configs, <id>/layer.tar), gzipped or not.
 * Reading the archive streams every large entry straight into blob storage through the upload pipeline,
 * which verifies it against the digest its name claims; small entries wait in memory (bounded) until the
 * layout's index.json says which are manifests. Then `finish` pushes the manifests, children first, and
 * tags them. A failure anywhere unlinks what the import linked: nothing of a refused archive is visible.
 */
export class ArchiveImporter {
  constructor(private readonly services: ImportServices) {}

  /** Reads the whole archive; throws ArchiveInvalid (after unlinking what it stored) on a bad one. */
  async stage(repository: string, archive: Readable): Promise<StagedImport> {
    const staged: StagedImport = {
      repository,
      linked: [],
      alreadyPresent: 0,
      held: new Map(),
      index: null,
      legacy: new Map(),
      sawLegacyManifest: false,
    };
    try {
      await this.read(archive, staged);
      return staged;
    } catch (err) {
      await this.abort(staged);
      throw err instanceof ArchiveInvalid ? err : wrapped(err);
    }
  }

  /** Pushes the staged manifests and tags; on failure, unlinks what the import stored. */
  async finish(staged: StagedImport, tagOverride: string | undefined, actor: EventActor): Promise<ImportResult> {
    try {
      return await this.push(staged, tagOverride, actor);
    } catch (err) {
      await this.abort(staged);
      throw err;
    }
  }

  /** Unlinks the blobs this import linked (best effort: what cannot be unlinked is garbage for GC). */
  async abort(staged: StagedImport): Promise<void> {
    for (const digest of staged.linked) await this.services.blobs.delete(staged.repository, digest).catch(() => undefined);
    staged.linked = [];
  }

  private async read(archive: Readable, staged: StagedImport): Promise<void> {
    const tar = extract();
    const source = await gunzippedIfNeeded(archive);
    // Piped by hand, not with pipeline(): a refused archive must not destroy the request it arrives in. The
    // rest of the body is drained instead, so the client reads the 400 rather than a reset connection.
    const failed = new Promise<never>((_resolve, reject) => source.once('error', reject));
    failed.catch(() => undefined);
    source.once('error', (err) => tar.destroy(err));
    source.pipe(tar);
    let heldBytes = 0;
    try {
      for await (const entry of tar) {
        const { name: rawName, type, size } = entry.header;
        const name = safeEntryName(rawName);
        if (type === 'directory') {
          entry.resume();
          continue;
        }
        if (type !== 'file' && type !== 'contiguous-file') {
          throw new ArchiveInvalid(`entry ${rawName} is a ${type}: an image archive holds regular files only`);
        }
        const blob = BLOB_ENTRY.exec(name);
        if (blob) {
          const digest = (blob[1] as string).replace('/', ':');
          if (size <= MAX_MANIFEST_BYTES && heldBytes + size <= MAX_HELD_BYTES) {
            staged.held.set(digest, await readAll(bytesOf(entry), size));
            heldBytes += size;
          } else {
            // tar-stream's entries are streamx streams: the upload pipeline reads a Node stream of them.
            await this.storeBlob(staged, digest, Readable.from(bytesOf(entry)));
          }
          continue;
        }
        if (name === 'index.json') staged.index = await readAll(bytesOf(entry), MAX_METADATA_BYTES, name);
        else if (name === 'manifest.json') {
          staged.sawLegacyManifest = true;
          staged.legacy.set(name, { held: await readAll(bytesOf(entry), MAX_METADATA_BYTES, name) });
        } else if (size <= MAX_MANIFEST_BYTES && heldBytes + size <= MAX_HELD_BYTES) {
          // A legacy archive's config (<id>.json) or a small layer; until its end says which, if any, it is.
          staged.legacy.set(name, { held: await readAll(bytesOf(entry), size) });
          heldBytes += size;
        } else {
          // A legacy layer (<id>/layer.tar): its digest is known only once it has been read.
          staged.legacy.set(name, await this.storeUnnamedBlob(staged, Readable.from(bytesOf(entry))));
        }
      }
    } catch (err) {
      source.unpipe(tar);
      tar.destroy();
      drain(archive);
      throw err;
    }
    if (!staged.index && !staged.sawLegacyManifest) {
      throw new ArchiveInvalid('neither index.json nor manifest.json: not an OCI image layout or a docker-archive');
    }
  }

  private async push(staged: StagedImport, tagOverride: string | undefined, actor: EventActor): Promise<ImportResult> {
    if (!staged.index) await this.layoutFromLegacy(staged);
    const index = parseIndex(staged.index);
    if (tagOverride !== undefined && !isValidTag(tagOverride)) throw new ArchiveInvalid(`invalid tag: ${tagOverride}`);
    if (tagOverride !== undefined && index.length !== 1) {
      throw new ArchiveInvalid(`the archive holds ${index.length} images: a tag cannot name them all`);
    }
    // Which held entries are manifests: everything reachable from index.json through manifest descriptors.
    const manifests = new Map<string, { content: Buffer; mediaType: string }>();
    const order: string[] = [];
    const visit = (digest: string, mediaType: string, depth: number): void => {
      if (manifests.has(digest)) return;
      if (depth > 8) throw new ArchiveInvalid('indexes nested more than 8 deep');
      const content = staged.held.get(digest);
      if (!content) throw new ArchiveInvalid(`manifest ${digest} is not in the archive`);
      manifests.set(digest, { content, mediaType });
      const parsed = parseManifest(content, mediaType);
      for (const child of parsed.children) visit(child.digest, child.mediaType, depth + 1);
      order.push(digest); // children first
    };
    for (const entry of index) visit(entry.digest, entry.mediaType, 0);
    // The other held entries are blobs (configs, small layers).
    for (const [digest, content] of staged.held) {
      if (!manifests.has(digest)) await this.storeBlob(staged, digest, bufferStream(content));
    }
    staged.held.clear();
    // Every blob a manifest names must be here now (in the archive, or already in the repository).
    for (const digest of order) {
      const { content, mediaType } = manifests.get(digest) as { content: Buffer; mediaType: string };
      for (const ref of parseManifest(content, mediaType).references) {
        if (ref.kind !== 'blob') continue;
        await this.services.blobs.stat(staged.repository, ref.digest).catch(() => {
          throw new ArchiveInvalid(`manifest ${digest} names ${ref.digest}, which is neither in the archive nor in ${staged.repository}`);
        });
      }
    }
    const tops = new Map(index.map((e) => [e.digest, tagOverride !== undefined ? [tagOverride] : e.tags]));
    const images: ImportedImage[] = [];
    for (const digest of order) {
      const { content, mediaType } = manifests.get(digest) as { content: Buffer; mediaType: string };
      const tags = tops.get(digest) ?? [];
      await this.services.manifests.put(staged.repository, digest, content, mediaType, actor, tags);
      if (tops.has(digest)) images.push({ digest, mediaType, tags });
    }
    const uploaded = staged.linked.length;
    staged.linked = []; // kept for good now
    return { repository: staged.repository, images, blobs: { uploaded, alreadyPresent: staged.alreadyPresent } };
  }

  /**
   * Turns a legacy docker-archive (manifest.json naming a config file and layer tars) into what an OCI layout
   * holds: each image a Docker schema 2 manifest over its config and its uncompressed layers, held like a
   * layout's manifests, and an index.json naming them with their tags. The config keeps its bytes, so the
   * image id (the config digest) stays the one `docker save` was given.
   */
  private async layoutFromLegacy(staged: StagedImport): Promise<void> {
    const raw = staged.legacy.get('manifest.json');
    let images: unknown;
    try {
      images = JSON.parse(raw && 'held' in raw ? raw.held.toString('utf8') : '');
    } catch {
      throw new ArchiveInvalid('manifest.json is not JSON');
    }
    if (!Array.isArray(images) || images.length === 0) throw new ArchiveInvalid('manifest.json lists no images');
    const entries: unknown[] = [];
    for (const image of images as Array<{ Config?: unknown; RepoTags?: unknown; Layers?: unknown }>) {
      if (typeof image.Config !== 'string' || !Array.isArray(image.Layers))
        throw new ArchiveInvalid('manifest.json: an image without Config or Layers');
      const config = await this.legacyBlob(staged, image.Config);
      const layers: Array<{ mediaType: string; digest: string; size: number }> = [];
      for (const path of image.Layers) {
        if (typeof path !== 'string') throw new ArchiveInvalid('manifest.json: a layer that is not a path');
        layers.push({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar', ...(await this.legacyBlob(staged, path)) });
      }
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.DOCKER_MANIFEST,
          config: { mediaType: MediaType.DOCKER_CONFIG, ...config },
          layers,
        }),
      );
      const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
      staged.held.set(digest, manifest);
      const tags = (Array.isArray(image.RepoTags) ? image.RepoTags : [])
        .filter((t): t is string => typeof t === 'string')
        .map((t) => t.slice(t.lastIndexOf(':') + 1))
        .filter((t) => isValidTag(t));
      for (const tag of tags.length > 0 ? tags : [undefined]) {
        entries.push({
          mediaType: MediaType.DOCKER_MANIFEST,
          digest,
          size: manifest.length,
          ...(tag ? { annotations: { 'org.opencontainers.image.ref.name': tag } } : {}),
        });
      }
    }
    staged.index = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: entries }));
  }

  /** A file a legacy manifest.json names, stored as a blob: its digest and size. */
  private async legacyBlob(staged: StagedImport, rawPath: string): Promise<{ digest: string; size: number }> {
    const found = staged.legacy.get(safeEntryName(rawPath));
    if (!found) throw new ArchiveInvalid(`manifest.json names ${rawPath}, which is not in the archive`);
    if ('digest' in found) return found;
    const digest = `sha256:${createHash('sha256').update(found.held).digest('hex')}`;
    await this.storeBlob(staged, digest, bufferStream(found.held));
    const stored = { digest, size: found.held.length };
    staged.legacy.set(safeEntryName(rawPath), stored);
    return stored;
  }

  /** A blob whose digest is known only once read: hashed on the way into an upload, then committed under it. */
  private async storeUnnamedBlob(staged: StagedImport, body: Readable): Promise<{ digest: string; size: number }> {
    const session = await this.services.uploads.start(staged.repository);
    const hash = createHash('sha256');
    let size = 0;
    const counted = body.pipe(
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      }),
    );
    try {
      await this.services.uploads.append(staged.repository, session.id, counted);
      const digest = `sha256:${hash.digest('hex')}`;
      await this.services.uploads.complete(staged.repository, session.id, digest);
      staged.linked.push(digest);
      return { digest, size };
    } catch (err) {
      await this.services.uploads.cancel(staged.repository, session.id).catch(() => undefined);
      throw err;
    }
  }

  private async storeBlob(staged: StagedImport, digest: string, body: Readable): Promise<void> {
    const present = await this.services.blobs.stat(staged.repository, digest).then(
      () => true,
      () => false,
    );
    if (present) {
      staged.alreadyPresent += 1;
      body.resume();
      await finished(body);
      return;
    }
    await this.services.uploads.monolithic(staged.repository, digest, body);
    staged.linked.push(digest);
  }
}

interface IndexEntry {
  digest: string;
  mediaType: string;
  tags: string[];
}

/** index.json's manifests, each with the tag its annotations give (`org.opencontainers.image.ref.name`). */
function parseIndex(raw: Buffer | null): IndexEntry[] {
  let json: unknown;
  try {
    json = JSON.parse((raw ?? Buffer.alloc(0)).toString('utf8'));
  } catch {
    throw new ArchiveInvalid('index.json is not JSON');
  }
  const manifests = (json as { manifests?: unknown }).manifests;
  if (!Array.isArray(manifests) || manifests.length === 0) throw new ArchiveInvalid('index.json lists no manifests');
  return manifests.map((m: unknown) => {
    const d = m as { digest?: unknown; mediaType?: unknown; annotations?: Record<string, unknown> };
    if (typeof d.digest !== 'string' || typeof d.mediaType !== 'string' || !MANIFEST_MEDIA_TYPES.has(d.mediaType)) {
      throw new ArchiveInvalid('index.json lists an entry that is not a manifest descriptor');
    }
    const ref = d.annotations?.['org.opencontainers.image.ref.name'];
    return { digest: d.digest, mediaType: d.mediaType, tags: typeof ref === 'string' && isValidTag(ref) ? [ref] : [] };
  });
}

/** The entry's name, normalised; refused when it could point outside the archive. */
function safeEntryName(name: string): string {
  const trimmed = name.replace(/^\.\//, '').replace(/\/+$/, '');
  if (trimmed.startsWith('/') || trimmed.split('/').some((part) => part === '..') || trimmed.includes('\0')) {
    throw new ArchiveInvalid(`entry ${JSON.stringify(name)} points outside the archive`);
  }
  return trimmed;
}

async function readAll(entry: AsyncIterable<Buffer>, limit: number, what = 'entry'): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of entry) {
    length += chunk.length;
    if (length > limit) throw new ArchiveInvalid(`${what} is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, length);
}

/** An entry's chunks as Buffers (streamx streams type them unknown). */
async function* bytesOf(entry: AsyncIterable<unknown>): AsyncGenerator<Buffer> {
  for await (const chunk of entry) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
}

function bufferStream(content: Buffer): Readable {
  const stream = new PassThrough();
  stream.end(content);
  return stream;
}

function finished(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stream.readableEnded) return resolve();
    stream.once('end', resolve).once('error', reject);
  });
}

/** The archive as a tar stream: gunzipped (with bounded expansion) when it starts with gzip's magic bytes. */
async function gunzippedIfNeeded(archive: Readable): Promise<Readable> {
  const head: Buffer | null = await new Promise((resolve, reject) => {
    const onReadable = () => {
      const chunk = archive.read(2) as Buffer | null;
      if (chunk !== null || archive.readableEnded) {
        cleanup();
        resolve(chunk);
      }
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => archive.off('readable', onReadable).off('end', onEnd).off('error', onError);
    archive.on('readable', onReadable).once('end', onEnd).once('error', onError);
  });
  if (head === null) throw new ArchiveInvalid('the archive is empty');
  archive.unshift(head);
  if (head[0] !== 0x1f || head[1] !== 0x8b) return archive;
  const counter = new ByteCounter();
  const gunzip = createGunzip();
  const bounded = new ExpansionBound(counter);
  // By hand, as in read(): an error ends the decompressed stream, never the request carrying the archive.
  for (const stage of [counter, gunzip]) stage.once('error', (err: Error) => bounded.destroy(err));
  archive.pipe(counter).pipe(gunzip).pipe(bounded);
  return bounded;
}

/** Reads and discards the rest of a refused archive, so its request completes. */
function drain(archive: Readable): void {
  archive.unpipe();
  archive.on('error', () => undefined);
  archive.resume();
}

class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

/** Refuses a gzip stream that expands beyond MAX_GUNZIP_RATIO times what came in (a gzip bomb). */
class ExpansionBound extends Transform {
  private out = 0;
  constructor(private readonly compressed: ByteCounter) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.out += chunk.length;
    if (this.out > this.compressed.bytes * MAX_GUNZIP_RATIO + GUNZIP_SLACK_BYTES) {
      done(new ArchiveInvalid(`the gzip stream expands more than ${MAX_GUNZIP_RATIO} times: refused as a gzip bomb`));
      return;
    }
    done(null, chunk);
  }
}

/** A storage or database fault stays what it is; a parse failure of the archive is the client's. */
function wrapped(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  if (
    /Unexpected end of data|Invalid tar header|incorrect header check|unexpected end of file|invalid (stored|distance|block)/i.test(
      err.message,
    )
  ) {
    return new ArchiveInvalid(`the archive is damaged: ${err.message}`);
  }
  return err;
}
