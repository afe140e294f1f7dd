import type { Request, Response } from 'express';
import { tryParseDigest } from '../../oci/digest';
import { ContentRangeInvalid } from '../edge-errors';
import { assertValidName } from '../../oci/reference';
import type { BlobService } from '../../registry/blob-service';
import type { UploadService } from '../../registry/upload-service';
import type { UploadSession } from '../../sessions/upload-session-store';
import { hasBody, queryParam, type RouteHandlers } from '../handler';
import { parseContentRange } from '../range';
import { locations, uploadProgressHeaders } from '../routes';

/** POST /v2/<name>/blobs/uploads/ and GET/PATCH/PUT/DELETE /v2/<name>/blobs/uploads/<id> */
export function uploadHandlers(
  uploads: UploadService,
  blobs: BlobService,
  /** Whether the caller may read the mount source; a mount it may not read becomes a plain upload. */
  mayMountFrom: (req: Request, from: string) => Promise<boolean> = async () => true,
): RouteHandlers {
  const sessionAccepted = (res: Response, name: string, session: UploadSession, status: 202 | 204) => {
    res
      .status(status)
      .set({
        ...uploadProgressHeaders(name, session.id, session.offset),
        'Content-Length': '0',
      })
      .end();
  };
  const blobCreated = (res: Response, name: string, digest: string) => {
    res
      .status(201)
      .set({ Location: locations.blob(name, digest), 'Docker-Content-Digest': digest, 'Content-Length': '0' })
      .end();
  };

  return {
    uploads: {
      POST: async (req, res, { name }) => {
        const mount = queryParam(req, 'mount');
        const from = queryParam(req, 'from');
        if (mount !== undefined && from !== undefined) {
          assertValidName(from);
          if ((await mayMountFrom(req, from)) && (await blobs.mount(name!, mount, from))) {
            blobCreated(res, name!, mount);
            return;
          }
        }
        const digest = queryParam(req, 'digest');
        if (digest !== undefined) {
          blobCreated(res, name!, await uploads.monolithic(name!, digest, req));
          return;
        }
        req.resume();
        sessionAccepted(res, name!, await uploads.start(name!), 202);
      },
    },
    upload: {
      GET: async (_req, res, { name, uploadId }) => {
        sessionAccepted(res, name!, await uploads.status(name!, uploadId!), 204);
      },
      PATCH: async (req, res, { name, uploadId }) => {
        const range = chunkRange(req);
        sessionAccepted(res, name!, await uploads.append(name!, uploadId!, req, range), 202);
      },
      PUT: async (req, res, { name, uploadId }) => {
        const digest = queryParam(req, 'digest');
        // An upload that does not exist is unknown, whatever the digest: only a known one can have a bad digest.
        if (digest === undefined || tryParseDigest(digest) === null) await uploads.status(name!, uploadId!);
        let body: Request | undefined;
        if (hasBody(req)) {
          const range = chunkRange(req);
          if (range) await uploads.append(name!, uploadId!, req, range);
          else body = req;
        } else {
          req.resume();
        }
        blobCreated(res, name!, await uploads.complete(name!, uploadId!, digest, body));
      },
      DELETE: async (_req, res, { name, uploadId }) => {
        await uploads.cancel(name!, uploadId!);
        res.status(204).set('Content-Length', '0').end();
      },
    },
  };
}

/** The chunk's declared range, checked against its declared length. */
function chunkRange(req: Request) {
  const range = parseContentRange(req.headers['content-range']);
  const length = req.headers['content-length'];
  if (range && length !== undefined && Number(length) !== range.end - range.start + 1) {
    throw new ContentRangeInvalid('Content-Range does not match Content-Length');
  }
  return range;
}
