import { parseDigest } from '../oci/digest';
import { MediaType } from '../oci/media-types';
import type { Descriptor } from '../oci/manifest';
import type { MetadataIndex } from '../metadata/metadata-index';

export interface ReferrersResponse {
  index: { schemaVersion: 2; mediaType: string; manifests: Descriptor[] };
  filtered: boolean;
}

/** The referrers API: an image index of the manifests whose `subject` is a digest. */
export class ReferrerService {
  constructor(private readonly index: MetadataIndex) {}

  async list(repository: string, subjectParam: string, artifactType?: string): Promise<ReferrersResponse> {
    const subject = parseDigest(subjectParam).value;
    const records = await this.index.listReferrers(repository, subject, artifactType || undefined);
    const manifests = records.map((r): Descriptor => {
      const descriptor: Descriptor = { mediaType: r.mediaType, digest: r.digest, size: r.size };
      // image-spec: an image manifest without artifactType is typed by its config.
      const type = r.artifactType ?? r.configMediaType;
      if (type) descriptor.artifactType = type;
      if (r.annotations) descriptor.annotations = r.annotations;
      return descriptor;
    });
    return {
      index: { schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests },
      filtered: Boolean(artifactType),
    };
  }
}
