import type { EventActor } from '../events/registry-events';
import type { Logger } from '../log';
import { parseManifest } from '../oci/manifest';
import { UpstreamUnavailable } from '../proxy/proxy-errors';
import { discard, UpstreamClient, type FetchFunction } from '../proxy/upstream-client';
import type { BlobService } from '../registry/blob-service';
import type { ManifestService } from '../registry/manifest-service';
import type { ReferrerService } from '../registry/referrer-service';
import { ArchiveInvalid, RemotePromotionFailed } from './archive-errors';

export interface RemotePromotionServices {
  blobs: Pick<BlobService, 'stat' | 'open'>;
  manifests: Pick<ManifestService, 'get'>;
  referrers: Pick<ReferrerService, 'list'>;
  log: Logger;
  /** The SSRF guard: a target on a loopback, private or link-local address is refused unless allowed. */
  guard?: { check(url: string): Promise<unknown> };
  fetch?: FetchFunction;
}

/** Another registry's repository and tag; the credentials are used for this request only, never kept. */
export interface RemoteTarget {
  /** `https://host[:port]` (or http:// for loopback). */
  registry: string;
  repository: string;
  tag: string;
  username?: string;
  password?: string;
}

export interface RemotePromotionRequest {
  source: { repository: string; reference: string };
  target: RemoteTarget;
  referrers: boolean;
}

export interface RemotePromotionResult {
  digest: string;
  target: string;
  manifests: number;
  blobsCopied: number;
  /** Blobs the target had already (a HEAD said so): not sent. */
  blobsSkipped: number;
  referrers: string[];
}

const MAX_DEPTH = 8;

/**
 * Promotes a version to another registry (issue #21): as Promotion does inside Berth (children before their
 * index, referrers after their subject, each manifest under its digest, the tag set LAST), but blobs stream
 * from storage to the target through its own authentication (anonymous, Basic or its token flow, push
 * scope), skipping those its HEAD says it has. A refusal or failure mid-way stops the promotion with the
 * digest that failed; the target's tag is never set to something incomplete (blobs and untagged manifests
 * already sent stay there for its garbage collection).
 */
export class RemotePromotion {
  constructor(private readonly services: RemotePromotionServices) {}

  async promote(request: RemotePromotionRequest, _actor: EventActor): Promise<RemotePromotionResult> {
    const { source, target } = request;
    await this.services.guard?.check(target.registry);
    const client = new UpstreamClient({ url: target.registry, username: target.username, password: target.password }, this.services.fetch);
    const top = await this.services.manifests.get(source.repository, source.reference);
    const state = { manifests: 0, blobsCopied: 0, blobsSkipped: 0, done: new Set<string>(), referrers: [] as string[] };
    const push = { client, repository: target.repository, from: source.repository };
    // A first request without a body: the target's challenge is answered (a push-scoped token fetched) before any upload.
    await this.exists(push, 'manifests', top.digest);
    await this.copy(push, top.digest, request.referrers, state, 0, false);
    await this.putManifest(push, target.tag, top.content, top.mediaType);
    return {
      digest: top.digest,
      target: `${target.registry.replace(/^https?:\/\//, '')}/${target.repository}:${target.tag}`,
      manifests: state.manifests,
      blobsCopied: state.blobsCopied,
      blobsSkipped: state.blobsSkipped,
      referrers: state.referrers,
    };
  }

  private async copy(
    push: Push,
    digest: string,
    withReferrers: boolean,
    state: { manifests: number; blobsCopied: number; blobsSkipped: number; done: Set<string>; referrers: string[] },
    depth: number,
    isReferrer: boolean,
  ): Promise<void> {
    if (state.done.has(digest)) return;
    if (depth > MAX_DEPTH) throw new ArchiveInvalid(`indexes or referrers nested more than ${MAX_DEPTH} deep`);
    state.done.add(digest);
    const m = await this.services.manifests.get(push.from, digest);
    for (const ref of parseManifest(m.content, m.mediaType).references) {
      if (ref.kind === 'manifest') {
        await this.copy(push, ref.digest, withReferrers, state, depth + 1, false);
      } else if (!state.done.has(ref.digest)) {
        state.done.add(ref.digest);
        if (await this.exists(push, 'blobs', ref.digest)) state.blobsSkipped += 1;
        else {
          await this.sendBlob(push, ref.digest);
          state.blobsCopied += 1;
        }
      }
    }
    if (depth > 0 || isReferrer) await this.putManifest(push, digest, m.content, m.mediaType);
    state.manifests += 1;
    if (isReferrer) state.referrers.push(digest);
    if (!withReferrers) return;
    for (const referrer of (await this.services.referrers.list(push.from, digest)).index.manifests) {
      await this.copy(push, referrer.digest, true, state, depth + 1, true);
    }
  }

  private async exists(push: Push, kind: 'blobs' | 'manifests', digest: string): Promise<boolean> {
    const res = await this.call(push, digest, { method: 'HEAD', path: `${kind}/${digest}` });
    await discard(res);
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw refused(digest, res.status, `HEAD ${kind}`);
  }

  /** POST an upload, then PUT the whole blob with its digest (monolithic: one round trip, any registry takes it). */
  private async sendBlob(push: Push, digest: string): Promise<void> {
    const info = await this.services.blobs.stat(push.from, digest);
    const started = await this.call(push, digest, { method: 'POST', path: 'blobs/uploads/', headers: { 'Content-Length': '0' } });
    await discard(started);
    const location = started.headers.get('location');
    if (started.status !== 202 || !location) throw refused(digest, started.status, 'starting the upload');
    const url = new URL(location, push.client.base);
    url.searchParams.set('digest', digest);
    const body = await this.services.blobs.open(info);
    const res = await this.call(push, digest, {
      method: 'PUT',
      path: url.toString(),
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(info.size) },
      body,
      timeoutMs: 0,
    });
    await discard(res);
    if (res.status !== 201) throw refused(digest, res.status, 'uploading the blob');
  }

  private async putManifest(push: Push, reference: string, content: Buffer, mediaType: string): Promise<void> {
    const res = await this.call(push, reference, {
      method: 'PUT',
      path: `manifests/${reference}`,
      headers: { 'Content-Type': mediaType },
      body: content,
    });
    await discard(res);
    if (res.status !== 201) throw refused(reference, res.status, 'putting the manifest');
  }

  private async call(push: Push, what: string, req: Parameters<UpstreamClient['call']>[1]): Promise<Response> {
    try {
      return await push.client.call(push.repository, { ...req, actions: 'pull,push' });
    } catch (err) {
      if (err instanceof UpstreamUnavailable) throw new RemotePromotionFailed({ failed: what, reason: err.detail });
      throw err;
    }
  }
}

interface Push {
  client: UpstreamClient;
  repository: string;
  from: string;
}

function refused(what: string, status: number, step: string): RemotePromotionFailed {
  return new RemotePromotionFailed({ failed: what, status, step, reason: `the target answered ${status}` });
}
