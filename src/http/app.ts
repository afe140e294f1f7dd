import express, { type Express } from 'express';
import type { Logger } from '../log';
import type { BlobService } from '../registry/blob-service';
import type { ListingService } from '../registry/listing-service';
import type { ManifestService } from '../registry/manifest-service';
import type { ReferrerService } from '../registry/referrer-service';
import type { UploadService } from '../registry/upload-service';
import { RegistryError } from '../oci/errors';
import type { RouteHandlers } from './handler';
import { baseHandlers } from './handlers/base';
import { blobHandlers } from './handlers/blobs';
import { listingHandlers } from './handlers/listings';
import { manifestHandlers } from './handlers/manifests';
import { referrerHandlers } from './handlers/referrers';
import { uploadHandlers } from './handlers/uploads';
import { renderErrors } from './middleware/errors';
import { requestContext } from './middleware/request-context';
import { v2Router } from './v2-router';

export interface HttpDependencies {
  log: Logger;
  blobs: BlobService;
  uploads: UploadService;
  manifests: ManifestService;
  listing: ListingService;
  referrers: ReferrerService;
}

/** The Express application: middleware, the v2 route table, one error renderer. No body parsers: bodies are streams. */
export function createHttpApp(deps: HttpDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');

  const handlers: RouteHandlers = mergeHandlers(
    baseHandlers(),
    blobHandlers(deps.blobs),
    uploadHandlers(deps.uploads, deps.blobs),
    manifestHandlers(deps.manifests),
    listingHandlers(deps.listing),
    referrerHandlers(deps.referrers),
  );

  app.use(requestContext(deps.log));
  app.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });
  app.use(v2Router(handlers));
  app.use((req, _res, next) => next(new RegistryError('NOT_FOUND', { path: req.path })));
  app.use(renderErrors());
  return app;
}

function mergeHandlers(...parts: RouteHandlers[]): RouteHandlers {
  const merged: RouteHandlers = {};
  for (const part of parts) {
    for (const [route, methods] of Object.entries(part) as Array<[keyof RouteHandlers, RouteHandlers[keyof RouteHandlers]]>) {
      merged[route] = { ...merged[route], ...methods };
    }
  }
  return merged;
}
