import type { EventActor } from '../events/registry-events';
import { parseManifest } from '../oci/manifest';
import type { BlobService } from '../registry/blob-service';
import type { ManifestService } from '../registry/manifest-service';
import type { ReferrerService } from '../registry/referrer-service';
import { ArchiveInvalid } from './archive-errors';

export interface PromotionServices {
  blobs: Pick<BlobService, 'mount'>;
  manifests: Pick<ManifestService, 'get' | 'put'>;
  referrers: Pick<ReferrerService, 'list'>;
}

export interface PromotionRequest {
  source: { repository: string; reference: string };
  target: { repository: string; tag: string };
  /** Also the signatures, SBOMs and attestations of what is promoted (and theirs). */
  referrers: boolean;
}

export interface PromotionResult {
  digest: string;
  target: string;
  manifests: number;
  blobsMounted: number;
  referrers: string[];
}

/** How deep indexes and referrers of referrers are followed. */
const MAX_DEPTH = 8;

/**
 * Promotes a version to another package of this registry (issue #21): the manifest (an index with all its
 * platforms) and, on request, its referrers, with every blob mounted from the source package: no blob byte is
 * copied. Children go before their index and referrers after their subject, each pushed under its digest, and
 * the tag is set last, so the target's tag never names something incomplete. The same digest, always.
 */
export class Promotion {
  constructor(private readonly services: PromotionServices) {}

  async promote(request: PromotionRequest, actor: EventActor): Promise<PromotionResult> {
    const { source, target } = request;
    const top = await this.services.manifests.get(source.repository, source.reference);
    const state = { manifests: 0, blobsMounted: 0, copied: new Set<string>(), referrers: [] as string[] };
    await this.copy(source.repository, target.repository, top.digest, request.referrers, actor, state, 0, false);
    await this.services.manifests.put(target.repository, top.digest, top.content, top.mediaType, actor, [target.tag]);
    return {
      digest: top.digest,
      target: `${target.repository}:${target.tag}`,
      manifests: state.manifests,
      blobsMounted: state.blobsMounted,
      referrers: state.referrers,
    };
  }

  /** Copies one manifest under its digest (unless `skipSelf`: the top, tagged by the caller), children first. */
  private async copy(
    from: string,
    to: string,
    digest: string,
    withReferrers: boolean,
    actor: EventActor,
    state: { manifests: number; blobsMounted: number; copied: Set<string>; referrers: string[] },
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
        await this.copy(from, to, ref.digest, withReferrers, actor, state, depth + 1, false);
      } else if (state.copied.has(ref.digest)) {
        continue; // mounted already, for a sibling
      } else if (await this.services.blobs.mount(to, ref.digest, from)) {
        state.copied.add(ref.digest);
        state.blobsMounted += 1;
      } else {
        throw new ArchiveInvalid(`${ref.digest}, which ${digest} names, is missing from ${from}`);
      }
    }
    // The top manifest is put (and tagged) by promote(), once everything below it is in place.
    if (depth > 0 || isReferrer) await this.services.manifests.put(to, digest, m.content, m.mediaType, actor);
    state.manifests += 1;
    if (isReferrer) state.referrers.push(digest);
    if (!withReferrers) return;
    for (const referrer of (await this.services.referrers.list(from, digest)).index.manifests) {
      await this.copy(from, to, referrer.digest, true, actor, state, depth + 1, true);
    }
  }
}
