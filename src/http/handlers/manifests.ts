import type { Response } from 'express';
import { ManifestTooLarge, ManifestUnknown } from '../../registry/errors';
import { looksLikeDigest } from '../../oci/digest';
import { MAX_MANIFEST_BYTES } from '../../oci/manifest';
import { INDEX_MEDIA_TYPES } from '../../oci/media-types';
import type { ManifestRecord, StoredManifest } from '../../metadata/metadata-index';
import type { ManifestService } from '../../registry/manifest-service';
import { acceptedMediaTypes } from '../accept';
import { queryParams, readLimitedBody, type Handler, type RouteHandlers } from '../handler';
import { locations } from '../routes';
import { actorOf } from '../actor';

/** GET/HEAD/PUT/DELETE /v2/<name>/manifests/<reference> */
export function manifestHandlers(manifests: ManifestService): RouteHandlers {
  const describe = (res: Response, m: ManifestRecord) => {
    res.set({
      'Content-Type': m.mediaType,
      'Docker-Content-Digest': m.digest,
      'Content-Length': String(m.size),
      ETag: `"${m.digest}"`,
    });
    if (m.subject) res.set('OCI-Subject', m.subject);
  };

  const get: Handler = async (req, res, { name, reference }) => {
    const accepted = acceptedMediaTypes(req.headers.accept);
    const head = req.method === 'HEAD';
    const found =
      head && (accepted === null || looksLikeDigest(reference!))
        ? await manifests.stat(name!, reference!)
        : await manifests.get(name!, reference!);
    // A digest names exact bytes: serve them, labelled with their true type, whatever
    // Accept says (Docker 20.10's CLI fetches OCI children of an index without accepting
    // their type). Negotiation applies to tags, whose meaning the client cannot know.
    const byDigest = looksLikeDigest(reference!);
    const chosen =
      byDigest || accepted === null || accepted.has(found.mediaType) ? found : await fallback(name!, found as StoredManifest, accepted);
    describe(res, chosen);
    if (req.headers['if-none-match'] === `"${chosen.digest}"`) {
      res.status(304).end();
      return;
    }
    if (head) {
      res.status(200).end();
      return;
    }
    res.status(200).end((chosen as StoredManifest).content);
    // A download is a manifest sent: not a HEAD (update checkers poll with those) nor a 304,
    // which only confirm what the client has. Each GET counts for the digest it served, so a
    // platform image fetched through an index counts for itself as well as the index.
    manifests.pulled(name!, chosen.digest);
  };

  /**
   * A client that does not accept a stored index gets the linux/amd64 image
   * from it when it accepts that type, as Docker clients of old expect;
   * otherwise the manifest is, for this client, unknown.
   */
  const fallback = async (name: string, found: StoredManifest, accepted: Set<string>): Promise<StoredManifest> => {
    if (INDEX_MEDIA_TYPES.has(found.mediaType)) {
      const index = JSON.parse(found.content.toString('utf8')) as {
        manifests: Array<{ digest: string; mediaType: string; platform?: { os: string; architecture: string } }>;
      };
      const child = index.manifests.find(
        (d) => d.platform?.os === 'linux' && d.platform.architecture === 'amd64' && accepted.has(d.mediaType),
      );
      if (child) return manifests.get(name, child.digest);
    }
    throw new ManifestUnknown({
      digest: found.digest,
      mediaType: found.mediaType,
      reason: 'the manifest exists, but the Accept header does not allow its media type',
    });
  };

  return {
    manifest: {
      GET: get,
      HEAD: get,
      PUT: async (req, res, { name, reference }) => {
        const body = await readLimitedBody(req, MAX_MANIFEST_BYTES, () => new ManifestTooLarge(MAX_MANIFEST_BYTES));
        const tagParams = queryParams(req, 'tag');
        const pushed = await manifests.put(name!, reference!, body, req.headers['content-type'], actorOf(req), tagParams);
        res.status(201).set({
          Location: locations.manifest(name!, pushed.digest),
          'Docker-Content-Digest': pushed.digest,
          'Content-Length': '0',
        });
        if (pushed.subject) res.set('OCI-Subject', pushed.subject);
        // The spec's answer to `?tag=`: one OCI-Tag header per tag applied.
        if (tagParams.length > 0) res.set('OCI-Tag', pushed.tags);
        res.end();
      },
      DELETE: async (req, res, { name, reference }) => {
        await manifests.delete(name!, reference!, actorOf(req));
        res.status(202).set('Content-Length', '0').end();
      },
    },
  };
}
