import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import multer, { type StorageEngine } from 'multer';
import { pipeline } from 'node:stream/promises';
import { assertValidName } from '../oci/reference';
import { ArchiveInvalid } from '../transfer/archive-errors';
import type { ArchiveExporter } from '../transfer/archive-export';
import type { ArchiveImporter, StagedImport } from '../transfer/archive-import';
import type { Promotion } from '../transfer/promotion';
import { parseRemoteReference, type RemoteCredentials } from '../transfer/remote-registry';
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

  // Promotion (issue #21): {"source": TAG|DIGEST, "target": "OWNER/NAME:TAG" | "https://HOST/PATH:TAG",
  // "credentials": {"username", "password"} (for another registry; used for this request, never kept), "referrers": bool}.
  router.post(
    '/packages/*name/promote',
    express.json({ limit: '16kb' }),
    ...identify,
    guard('pull'),
    async (req: Request, res: Response) => {
      const body = (req.body ?? {}) as { source?: unknown; target?: unknown; referrers?: unknown; credentials?: unknown };
      const usage =
        'send {"source": TAG or DIGEST, "target": "OWNER/NAME:TAG" or "https://HOST/PATH:TAG", "credentials": {"username", "password"} (another registry\'s, optional), "referrers": true|false}';
      if (typeof body.source !== 'string' || body.source === '' || typeof body.target !== 'string') throw new ArchiveInvalid(usage);
      if (body.referrers !== undefined && typeof body.referrers !== 'boolean') throw new ArchiveInvalid('referrers is true or false');
      const remote = parseRemoteReference(body.target);
      const local = remote ? null : /^([a-z0-9][a-z0-9._/-]*):([A-Za-z0-9_][A-Za-z0-9._-]{0,127})$/.exec(body.target);
      if (!remote && !local) throw new ArchiveInvalid(usage);
      if (local) {
        assertValidName(local[1] as string);
        if (deps.auth) await enforce(req, deps.auth, 'push', local[1]);
      }
      const credentials = parseCredentials(body.credentials);
      if (credentials && !remote) throw new ArchiveInvalid('credentials are for a target on another registry');
      const result = await deps.promotion.promote(
        {
          source: { repository: packageName(req), reference: body.source },
          target: remote
            ? { remote, ...(credentials ? { credentials } : {}) }
            : { repository: local![1] as string, tag: local![2] as string },
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

/** `{"username": …, "password": …}`, both strings, or absent. */
function parseCredentials(raw: unknown): RemoteCredentials | undefined {
  if (raw === undefined) return undefined;
  const { username, password } = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  if (typeof username !== 'string' || typeof password !== 'string') {
    throw new ArchiveInvalid('credentials are {"username": "…", "password": "…"}');
  }
  return { username, password };
}

function packageName(req: Request): string {
  const raw = (req.params as Record<string, unknown>).name;
  if (Array.isArray(raw)) return raw.join('/');
  return typeof raw === 'string' ? raw : '';
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
