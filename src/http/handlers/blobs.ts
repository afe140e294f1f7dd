import type { Readable } from 'node:stream';
import type { Response } from 'express';
import type { BlobInfo, BlobService } from '../../registry/blob-service';
import { BlobUnknown } from '../../registry/errors';
import { sendStream, type Handler, type RouteHandlers } from '../handler';
import { parseByteRange } from '../range';

/**
 * Fills blobs a repository does not hold from elsewhere (a pull-through cache's upstream, src/proxy); asked
 * only about blobs the repository does not have, so a blob it holds costs what any other does.
 */
export interface BlobFiller {
  /**
   * Null: serve the blob from storage as usual (it is there now, or the repository is not one it fills).
   * A live blob: stream it to this client (who asked with `live`) as it arrives.
   */
  fill(name: string, digest: string, live: boolean): Promise<{ size: number; body: Readable } | null>;
  /** A blob the repository held was served (counted as a cache hit when the repository is a cache). */
  held(name: string): void;
}

/** GET/HEAD/DELETE /v2/<name>/blobs/<digest> */
export function blobHandlers(blobs: BlobService, filler?: BlobFiller): RouteHandlers {
  const describe = (res: Response, digest: string) =>
    res.set({
      'Docker-Content-Digest': digest,
      ETag: `"${digest}"`,
      'Accept-Ranges': 'bytes',
      'Content-Type': 'application/octet-stream',
      // Content-addressed: the bytes behind a digest never change.
      'Cache-Control': 'max-age=31536000, immutable',
    });
  const get: Handler = async (req, res, { name, digest }) => {
    let info: BlobInfo;
    try {
      info = await blobs.stat(name!, digest!);
      filler?.held(name!);
    } catch (err) {
      if (!filler || !(err instanceof BlobUnknown)) throw err;
      // Only a plain GET streams as it arrives; a HEAD, a range or a conditional request waits for the blob to be stored.
      const live = req.method === 'GET' && req.headers.range === undefined && req.headers['if-none-match'] === undefined;
      const arriving = await filler.fill(name!, digest!, live);
      if (arriving) {
        describe(res, digest!);
        res.status(200).set('Content-Length', String(arriving.size));
        await sendStream(res, arriving.body);
        return;
      }
      info = await blobs.stat(name!, digest!);
    }
    const etag = `"${info.digest}"`;
    describe(res, info.digest);
    if (req.headers['if-none-match'] === etag) {
      res.status(304).end();
      return;
    }
    const range = req.method === 'GET' ? parseByteRange(req.headers.range, info.size) : undefined;
    if (req.method === 'HEAD') {
      res.set('Content-Length', String(info.size)).status(200).end();
      return;
    }
    const direct = await blobs.redirectUrl(info);
    if (direct) {
      // The storage serves the bytes itself (S3_REDIRECT): clients follow with their Range header.
      res.status(307).set({ Location: direct, 'Cache-Control': 'no-store', 'Content-Length': '0' }).end();
      return;
    }
    const body = blobs.copies ? null : await blobs.open(info, range);
    if (range) {
      res.status(206).set({
        'Content-Range': `bytes ${range.start}-${range.end}/${info.size}`,
        'Content-Length': String(range.end - range.start + 1),
      });
    } else {
      res.status(200).set('Content-Length', String(info.size));
    }
    if (body) {
      await sendStream(res, body);
      return;
    }
    try {
      await blobs.copyTo(info, res, range);
    } catch (err) {
      // A client that went away mid-blob is not an error worth an alarm.
      if (res.destroyed || res.closed) return;
      if (!res.headersSent) {
        res.removeHeader('Content-Range');
        res.removeHeader('Content-Length');
      }
      throw err;
    }
    res.end();
  };
  return {
    blob: {
      GET: get,
      HEAD: get,
      DELETE: async (_req, res, { name, digest }) => {
        await blobs.delete(name!, digest!);
        res.status(202).set('Content-Length', '0').end();
      },
    },
  };
}
