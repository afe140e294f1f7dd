import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import multer, { type StorageEngine } from 'multer';
import { pipeline } from 'node:stream/promises';
import { assertValidName } from '../oci/reference';
import { ArchiveInvalid } from '../transfer/archive-errors';
import type { ArchiveExporter } from '../transfer/archive-export';
import type { ArchiveImporter, StagedImport } from '../transfer/archive-import';
import type { Promotion } from '../transfer/promotion';
import { actorOf } from './actor';
import { queryParam } from './handler';
import { authenticate, enforce, type AuthDependencies } from './middleware/authenticate';

export interface TransferDependencies {
  importer: ArchiveImporter;
  exporter: ArchiveExporter;
  promotion: Promotion;
  /** Token mode: who may import (push) and export (pull); absent in open mode. */
  auth?: AuthDependencies;
}

/** Staged imports by request: multer's storage engine reads the archive, the handler finishes it. */
const staging = new WeakMap<Request, Promise<StagedImport>>();

/**
 * Image tarballs (issue #21): `POST /api/v1/packages/OWNER/NAME/import`, a multipart form with the archive
 * in `archive` (and optionally `tag`), streamed through the importer as it arrives; `GET …/export?reference=
 * &format=oci-archive|docker-archive[&platform=os/arch]`, streamed back as a tar.
 */
export function transferRoutes(deps: TransferDependencies): Router {
  const router = express.Router();
  const storage: StorageEngine = {
    _handleFile(req, file, cb) {
      if (file.fieldname !== 'archive') {
        file.stream.resume();
        cb(new ArchiveInvalid(`unexpected file field ${file.fieldname}: send the archive as "archive"`));
        return;
      }
      const staged = deps.importer.stage(packageName(req), file.stream);
      staging.set(req, staged);
      staged.then(
        () => cb(null, {}),
        (err: unknown) => cb(err as Error),
      );
    },
    _removeFile(_req, _file, cb) {
      cb(null);
    },
  };
  // One archive, a few small fields; no size limit on the archive itself (multi-GB devcontainer images).
  const form = multer({ storage, limits: { files: 1, fields: 4, fieldSize: 1024, parts: 6 } }).single('archive');

  const guard = (action: 'push' | 'pull') => async (req: Request, _res: Response, next: NextFunction) => {
    try {
      assertValidName(packageName(req));
      if (deps.auth) await enforce(req, deps.auth, action, packageName(req));
      next();
    } catch (err) {
      next(err);
    }
  };
  const identify = deps.auth ? [authenticate(deps.auth)] : [];

  router.post('/packages/*name/import', ...identify, guard('push'), (req: Request, res: Response, next: NextFunction) => {
    form(req, res, (err: unknown) => {
      void (async () => {
        const staged = staging.get(req);
        if (err) {
          // A refused form (a second file, too many fields) after the archive was read: undo it.
          const done = await staged?.catch(() => null);
          if (done) await deps.importer.abort(done);
          throw err instanceof multer.MulterError ? new ArchiveInvalid(`bad form: ${err.message}`) : asError(err);
        }
        if (!staged) throw new ArchiveInvalid('no archive: send it as the multipart field "archive"');
        const body = (req.body ?? {}) as Record<string, unknown>;
        const tag = typeof body.tag === 'string' && body.tag !== '' ? body.tag : undefined;
        const result = await deps.importer.finish(await staged, tag, actorOf(req));
        res.status(201).json(result);
      })().catch(next);
    });
  });

  // Promotion to another package here (issue #21): {"source": TAG|DIGEST, "target": "OWNER/NAME:TAG", "referrers": bool}.
  router.post(
    '/packages/*name/promote',
    express.json({ limit: '16kb' }),
    ...identify,
    guard('pull'),
    async (req: Request, res: Response) => {
      const body = (req.body ?? {}) as { source?: unknown; target?: unknown; referrers?: unknown };
      const target =
        typeof body.target === 'string' ? /^([a-z0-9][a-z0-9._/-]*):([A-Za-z0-9_][A-Za-z0-9._-]{0,127})$/.exec(body.target) : null;
      if (typeof body.source !== 'string' || body.source === '' || !target) {
        throw new ArchiveInvalid('send {"source": TAG or DIGEST, "target": "OWNER/NAME:TAG", "referrers": true|false}');
      }
      if (body.referrers !== undefined && typeof body.referrers !== 'boolean') throw new ArchiveInvalid('referrers is true or false');
      const targetName = target[1] as string;
      assertValidName(targetName);
      if (deps.auth) await enforce(req, deps.auth, 'push', targetName);
      const result = await deps.promotion.promote(
        {
          source: { repository: packageName(req), reference: body.source },
          target: { repository: targetName, tag: target[2] as string },
          referrers: body.referrers === true,
        },
        actorOf(req),
      );
      res.status(201).json(result);
    },
  );

  router.get('/packages/*name/export', ...identify, guard('pull'), async (req: Request, res: Response) => {
    const reference = queryParam(req, 'reference');
    if (!reference) throw new ArchiveInvalid('say what to export: reference=TAG or DIGEST');
    const format = queryParam(req, 'format') ?? 'oci-archive';
    if (format !== 'oci-archive' && format !== 'docker-archive')
      throw new ArchiveInvalid(`unknown format ${format}: oci-archive or docker-archive`);
    const archive = await deps.exporter.export(packageName(req), reference, format, queryParam(req, 'platform'));
    res.status(200).set({
      'Content-Type': 'application/x-tar',
      'Content-Disposition': `attachment; filename="${archive.filename}"`,
      'Cache-Control': 'no-store',
    });
    // Once bytes are sent, a failure can only cut the stream: the client sees a truncated tar, never a wrong one.
    await pipeline(archive.stream, res).catch(() => res.destroy());
  });
  return router;
}

function packageName(req: Request): string {
  const raw = (req.params as Record<string, unknown>).name;
  if (Array.isArray(raw)) return raw.join('/');
  return typeof raw === 'string' ? raw : '';
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
