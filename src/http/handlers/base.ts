import type { Handler, RouteHandlers } from '../handler';

/** GET /v2/: the API version check every client starts with. */
export function baseHandlers(): RouteHandlers {
  const base: Handler = async (_req, res) => {
    res.status(200).type('application/json').send('{}');
  };
  return { base: { GET: base, HEAD: base } };
}
