import express, { type Request, type Response, type Router } from 'express';
import { InvalidRequest } from '../../auth/management/errors';
import type { SearchHit } from '../../search/search-index';
import type { SearchService } from '../../search/search-service';
import { actorOf } from './body';

const DEFAULT_PER_PAGE = 30;
const MAX_PER_PAGE = 100;
/** Pages past this are refused: deep offsets cost the database and no person reads them. */
const MAX_PAGE = 1000;

/**
 * `GET /search/packages?q=&page=&per_page=`: packages the caller may see,
 * best match first, as `{ total_count, items }`. A bad page or per_page is
 * 400; a query that cannot be read is 422 (SearchQueryInvalid).
 */
export function searchRoutes(search: SearchService): Router {
  const router = express.Router();
  router.get('/search/packages', async (req: Request, res: Response) => {
    const q = single(req, 'q') ?? '';
    const page = whole(single(req, 'page') ?? '1', 'page', MAX_PAGE);
    const perPage = whole(single(req, 'per_page') ?? String(DEFAULT_PER_PAGE), 'per_page', MAX_PER_PAGE);
    const result = await search.search(actorOf(req), q, page, perPage);
    const origin = `${req.protocol}://${req.get('host') ?? 'localhost'}`;
    res.json({ total_count: result.total, items: result.hits.map((hit) => item(origin, hit)) });
  });
  return router;
}

function item(origin: string, hit: SearchHit) {
  const name = hit.name.slice(hit.owner.length + 1);
  return {
    name: hit.name,
    owner: hit.owner,
    visibility: hit.visibility,
    description: hit.description,
    // The package's page, where GitHub has it (src/http/github/github-shapes.ts).
    html_url: `${origin}/${hit.ownerKind === 'org' ? 'orgs' : 'users'}/${encodeURIComponent(hit.owner)}/packages/container/package/${encodeURIComponent(name)}`,
    updated_at: new Date(hit.updatedAt).toISOString(),
    downloads: hit.downloads,
    latest_tag: hit.latestTag,
  };
}

function single(req: Request, key: string): string | undefined {
  const value = (req.query as Record<string, unknown>)[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InvalidRequest(`${key} must be given once`);
  return value;
}

function whole(value: string, key: string, max: number): number {
  const n = /^\d{1,7}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= max)) throw new InvalidRequest(`${key} is a whole number from 1 to ${max}`);
  return n;
}
