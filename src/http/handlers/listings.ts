import type { Request, Response } from 'express';
import type { ListPage, ListingService } from '../../registry/listing-service';
import { queryParam, type RouteHandlers } from '../handler';
import { locations } from '../routes';

/** GET /v2/<name>/tags/list and GET /v2/_catalog, paginated with n/last and a Link header. */
export function listingHandlers(
  listing: ListingService,
  visibleTo?: (req: Request) => ((name: string) => Promise<boolean>) | undefined,
): RouteHandlers {
  const link = (res: Response, path: string, page: ListPage) => {
    if (!page.next) return;
    const query = new URLSearchParams({ n: String(page.next.n), last: page.next.last });
    res.set('Link', `<${path}?${query.toString()}>; rel="next"`);
  };
  return {
    tags: {
      GET: async (req, res, { name }) => {
        const page = await listing.tags(name!, { n: queryParam(req, 'n'), last: queryParam(req, 'last') });
        link(res, locations.tags(name!), page);
        res.status(200).json({ name, tags: page.entries });
      },
    },
    catalog: {
      GET: async (req, res) => {
        const page = await listing.repositories({ n: queryParam(req, 'n'), last: queryParam(req, 'last') }, visibleTo?.(req));
        link(res, locations.catalog(), page);
        res.status(200).json({ repositories: page.entries });
      },
    },
  };
}
