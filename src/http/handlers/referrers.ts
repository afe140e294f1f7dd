import type { ReferrerService } from '../../registry/referrer-service';
import { queryParam, type RouteHandlers } from '../handler';
import { MediaType } from '../../oci/media-types';

/** GET /v2/<name>/referrers/<digest>[?artifactType=] */
export function referrerHandlers(referrers: ReferrerService): RouteHandlers {
  return {
    referrers: {
      GET: async (req, res, { name, digest }) => {
        const result = await referrers.list(name!, digest!, queryParam(req, 'artifactType'));
        if (result.filtered) res.set('OCI-Filters-Applied', 'artifactType');
        res
          .status(200)
          .type(MediaType.OCI_INDEX)
          .send(Buffer.from(JSON.stringify(result.index)));
      },
    },
  };
}
