import type { EventActor, RegistryEvents } from '../events/registry-events';
import { parseManifest } from '../oci/manifest';
import type { AddressGuard } from '../outbound/address-guard';
import type { BlobService } from '../registry/blob-service';
import type { ManifestService } from '../registry/manifest-service';
import { ManifestUnknown } from '../registry/errors';
import type { ReferrerService } from '../registry/referrer-service';
import { ArchiveInvalid } from './archive-errors';
import { RemoteRegistry, type RemoteCredentials, type RemoteReference } from './remote-registry';

export interface PromotionServices {
  blobs: Pick<BlobService, 'mount' | 'stat' | 'open'>;
  manifests: Pick<ManifestService, 'get' | 'put'>;
  referrers: Pick<ReferrerService, 'list'>;
  /** The SSRF guard for targets on other registries (BERTH_PROMOTION_ALLOWED_HOSTS). */
  guard: AddressGuard;
  /** Told of each promotion once it is complete (the audit log listens). */
  events?: RegistryEvents;
}

export interface PromotionRequest {
  source: { repository: string; reference: string };
  /** A package here, or a repository on another registry with the credentials to push there (never kept). */
  target: { repository: string; tag: string } | { remote: RemoteReference; credentials?: RemoteCredentials };
  /** Also the signatures, SBOMs and attestations of what is promoted (and theirs). */
  referrers: boolean;
}

export interface PromotionResult {
  digest: string;
  target: string;
  manifests: number;
  /** Blobs mounted from the source package (a promotion here: no byte copied). */
  blobsMounted: number;
  /** Blobs streamed to another registry, and those it had already (not sent again). */
  blobsSent: number;
  blobsPresent: number;
  referrers: string[];
}

/** Where a promotion writes: a package here, or a repository on another registry. */
interface PromotionSink {
  /** Makes a blob of the source present at the target; `missing` when the source does not have it. */
  blob(digest: string): Promise<'mounted' | 'sent' | 'present' | 'missing'>;
  /** Puts a manifest under its digest, or with `tag`, under that tag. */
  manifest(digest: string, content: Buffer, mediaType: string, tag?: string): Promise<void>;
}

interface CopyState {
  result: PromotionResult;
  copied: Set<string>;
}

/** How deep indexes and referrers of referrers are followed. */
const MAX_DEPTH = 8;

/**
 * The tags cosign gives what it attaches to an image in its default (tag) mode: `sha256-<hex>.sig`, `.att`,
 * `.sbom`. They are the image's referrers on a registry without the referrers API, which is where promotions
 * to other registries often go, so they travel with the image.
 */
const COSIGN_TAG_SUFFIXES = ['.sig', '.att', '.sbom'] as const;

/**
 * Promotes a version (issue #21): the manifest (an index with all its platforms) and, on request, its referrers,
 * to another package here, every blob mounted from the source package (no blob byte is copied), or to another
 * registry, every blob it does not have yet streamed to it. Children go before their index and referrers after
 * their subject, each pushed under its digest, and the tag is set last, so the target's tag never names
 * something incomplete: a target that refuses a blob half-way is left with no tag. The same digest, always.
 */
export class Promotion {
  constructor(private readonly services: PromotionServices) {}

  async promote(request: PromotionRequest, actor: EventActor): Promise<PromotionResult> {
    const { source, target } = request;
    const top = await this.services.manifests.get(source.repository, source.reference);
    const where =
      'remote' in target
        ? `${target.remote.origin}/${target.remote.repository}:${target.remote.tag}`
        : `${target.repository}:${target.tag}`;
    const sink =
      'remote' in target
        ? await this.remoteSink(source.repository, target.remote, target.credentials)
        : this.localSink(source.repository, target.repository, actor);
    const tag = 'remote' in target ? target.remote.tag : target.tag;
    const state: CopyState = {
      result: { digest: top.digest, target: where, manifests: 0, blobsMounted: 0, blobsSent: 0, blobsPresent: 0, referrers: [] },
      copied: new Set(),
    };
    await this.copy(source.repository, sink, top.digest, request.referrers, state, 0, false);
    await sink.manifest(top.digest, top.content, top.mediaType, tag);
    await this.services.events?.emit('package.promoted', {
      repository: source.repository,
      digest: top.digest,
      target: where,
      referrers: state.result.referrers,
      actor,
    });
    return state.result;
  }

  private localSink(from: string, to: string, actor: EventActor): PromotionSink {
    const { blobs, manifests } = this.services;
    return {
      blob: async (digest) => ((await blobs.mount(to, digest, from)) ? 'mounted' : 'missing'),
      manifest: async (digest, content, mediaType, tag) => {
        await manifests.put(to, digest, content, mediaType, actor, tag === undefined ? [] : [tag]);
      },
    };
  }

  private async remoteSink(from: string, remote: RemoteReference, credentials?: RemoteCredentials): Promise<PromotionSink> {
    const target = await this.services.guard.check(`${remote.origin}/v2/`);
    const registry = new RemoteRegistry(this.services.guard, target, remote.repository, credentials);
    const { blobs } = this.services;
    return {
      blob: async (digest) => {
        if (await registry.hasBlob(digest)) return 'present';
        let info;
        try {
          info = await blobs.stat(from, digest);
        } catch {
          return 'missing';
        }
        await registry.putBlob(digest, info.size, () => blobs.open(info));
        return 'sent';
      },
      manifest: (digest, content, mediaType, tag) => registry.putManifest(tag ?? digest, content, mediaType),
    };
  }

  /** Copies one manifest under its digest (unless it is the top, which promote() tags last), children first. */
  private async copy(
    from: string,
    sink: PromotionSink,
    digest: string,
    withReferrers: boolean,
    state: CopyState,
    depth: number,
    isReferrer: boolean,
  ): Promise<void> {
    if (state.copied.has(digest)) return;
    if (depth > MAX_DEPTH) throw new ArchiveInvalid(`indexes or referrers nested more than ${MAX_DEPTH} deep`);
    state.copied.add(digest);
    const m = await this.services.manifests.get(from, digest);
    const parsed = parseManifest(m.content, m.mediaType);
    for (const ref of parsed.references) {
      if (ref.kind === 'manifest') {
        await this.copy(from, sink, ref.digest, withReferrers, state, depth + 1, false);
        continue;
      }
      if (state.copied.has(ref.digest)) continue; // in place already, for a sibling
      const outcome = await sink.blob(ref.digest);
      if (outcome === 'missing') throw new ArchiveInvalid(`${ref.digest}, which ${digest} names, is missing from ${from}`);
      state.copied.add(ref.digest);
      if (outcome === 'mounted') state.result.blobsMounted += 1;
      else if (outcome === 'sent') state.result.blobsSent += 1;
      else state.result.blobsPresent += 1;
    }
    // The top manifest is put (and tagged) by promote(), once everything below it is in place.
    if (depth > 0 || isReferrer) await sink.manifest(digest, m.content, m.mediaType);
    state.result.manifests += 1;
    if (isReferrer) state.result.referrers.push(digest);
    if (!withReferrers) return;
    for (const referrer of (await this.services.referrers.list(from, digest)).index.manifests) {
      await this.copy(from, sink, referrer.digest, true, state, depth + 1, true);
    }
    for (const suffix of COSIGN_TAG_SUFFIXES) {
      const tag = `${digest.replace(':', '-')}${suffix}`;
      const attached = await this.services.manifests.get(from, tag).catch((err: unknown) => {
        if (err instanceof ManifestUnknown) return null;
        throw err;
      });
      if (!attached || state.copied.has(`${attached.digest} as ${tag}`)) continue;
      state.copied.add(`${attached.digest} as ${tag}`);
      await this.copy(from, sink, attached.digest, false, state, depth + 1, false);
      await sink.manifest(attached.digest, attached.content, attached.mediaType, tag);
      state.result.referrers.push(attached.digest);
    }
  }
}
