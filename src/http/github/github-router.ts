import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { Authenticator } from '../../auth/authenticator';
import type { WebSessions } from '../../auth/management/web-sessions';
import type { PackageAddress, PackageVersionService } from '../../auth/management/package-version-service';
import type { Account } from '../../auth/stores/account-store';
import type { Principal } from '../../auth/principal';
import { isGrantScope, TOKEN_SCOPES, type TokenScope } from '../../auth/principal';
import { tryParseDigest } from '../../oci/digest';
import { RouteNotFound } from '../edge-errors';
import { apiAuthenticate } from '../api/api-authenticate';
import { actorOf, parseBody } from '../api/body';
import { bodyParserErrors } from '../body-parser-errors';
import { GitHubBadRequest, GitHubValidationFailed } from './github-edge-errors';
import { renderGitHubErrors } from './github-errors';
import { linkHeader, pageRequest } from './github-paging';
import { ownerJson, packageJson, versionJson } from './github-shapes';
import { hookRoutes } from './github-hook-routes';
import type { HookService } from '../../webhooks/hook-service';

export const GITHUB_API_PREFIX = '/api/v3';

export interface GitHubApiDependencies {
  packages: PackageVersionService;
  authenticator: Authenticator;
  sessions: WebSessions;
  /** Organisation and repository hooks (issue #16); no hook routes without it. */
  hooks?: HookService;
}

/** The path prefixes GitHub serves packages under, and whose packages each names. */
const OWNERS: ReadonlyArray<[string, (service: PackageVersionService, req: Request) => Promise<Account>]> = [
  ['/orgs/:owner', (service, req) => service.owner(pathParam(req, 'owner'), 'org')],
  ['/users/:owner', (service, req) => service.owner(pathParam(req, 'owner'), 'user')],
  ['/user', (service, req) => service.self(actorOf(req))],
];

const bulkDelete = z.strictObject({
  ids: z.array(z.number().int().positive()).min(1).max(100),
  tree: z.boolean().optional(),
  detach: z.boolean().optional(),
});

/**
 * GitHub's packages REST API (issue #15), mounted at /api/v3 where GitHub
 * Enterprise Server serves it, so scripts written for GitHub work against
 * Berth by changing their base URL. Handlers translate HTTP and GitHub's
 * shapes; the rules are PackageVersionService's. Errors are GitHub's JSON.
 */
export function githubRouter(deps: GitHubApiDependencies): Router {
  const router = express.Router();
  const service = deps.packages;
  router.use(githubHeaders);
  router.use(express.json({ limit: '64kb' }));
  router.use(tokenScheme);
  router.use(apiAuthenticate(deps.authenticator, deps.sessions));
  router.use(scopeHeader);
  if (deps.hooks) {
    router.use(hookRoutes('/orgs/:org', (req) => ({ kind: 'org', org: pathParam(req, 'org') }), deps.hooks));
    router.use(
      hookRoutes(
        '/repos/:owner/:repo',
        (req) => ({ kind: 'repository', owner: pathParam(req, 'owner'), name: pathParam(req, 'repo') }),
        deps.hooks,
      ),
    );
  }

  for (const [prefix, ownerOf] of OWNERS) {
    const address = async (req: Request): Promise<PackageAddress> => {
      if (pathParam(req, 'type') !== 'container') throw new RouteNotFound(`Berth hosts container packages only`);
      return { owner: await ownerOf(service, req), name: pathParam(req, 'name') };
    };
    const pkgPath = `${prefix}/packages/:type/:name`;

    router.get(`${prefix}/packages`, async (req: Request, res: Response) => {
      const type = req.query.package_type;
      if (type === undefined || type === '') throw new GitHubBadRequest('package_type is required');
      if (typeof type !== 'string' || !PACKAGE_TYPES.has(type)) throw new GitHubValidationFailed('unknown package_type');
      const visibility = optionalEnum(req, 'visibility', ['public', 'private', 'internal'] as const);
      const page = pageRequest(req);
      const owner = await ownerOf(service, req);
      // Internal packages are an enterprise's: Berth has none. Other package types: none either.
      const all = type !== 'container' || visibility === 'internal' ? [] : await service.listPackages(actorOf(req), owner, visibility);
      const link = linkHeader(req, page, all.length);
      if (link) res.set('Link', link);
      const start = (page.page - 1) * page.perPage;
      res.json(all.slice(start, start + page.perPage).map((p) => packageJson(req, p)));
    });
    router.get(pkgPath, async (req: Request, res: Response) => {
      res.json(packageJson(req, await service.getPackage(actorOf(req), await address(req))));
    });
    router.delete(pkgPath, async (req: Request, res: Response) => {
      await service.deletePackage(actorOf(req), await address(req));
      res.status(204).end();
    });
    router.post(`${pkgPath}/restore`, async (req: Request, res: Response) => {
      await service.restorePackage(actorOf(req), await address(req));
      res.status(204).end();
    });
    router.get(`${pkgPath}/versions`, async (req: Request, res: Response) => {
      const at = await address(req);
      const page = pageRequest(req);
      const digest = typeof req.query.digest === 'string' ? req.query.digest : undefined;
      if (req.query.digest !== undefined && (digest === undefined || tryParseDigest(digest) === null)) {
        throw new GitHubValidationFailed('digest must be a digest (sha256:…)');
      }
      const tagged = optionalEnum(req, 'tagged', ['true', 'false'] as const);
      const { versions, total } = await service.listVersions(actorOf(req), at, {
        state: optionalEnum(req, 'state', ['active', 'deleted'] as const) ?? 'active',
        tagged: tagged === undefined ? undefined : tagged === 'true',
        orphaned: optionalEnum(req, 'orphaned', ['true', 'false'] as const) === 'true',
        digest,
        offset: (page.page - 1) * page.perPage,
        limit: page.perPage,
      });
      const link = linkHeader(req, page, total);
      if (link) res.set('Link', link);
      res.json(versions.map((v) => versionJson(req, at.owner, at.name, v)));
    });
    // Berth's own: many versions in one request (GitHub's rate limit makes people delete 180 a minute).
    router.post(`${pkgPath}/versions/delete`, async (req: Request, res: Response) => {
      const body = parseBody(bulkDelete, req);
      const scope = { tree: body.tree ?? false, detach: body.detach ?? false };
      const deleted = await service.deleteVersions(actorOf(req), await address(req), body.ids, scope);
      res.json({ deleted });
    });
    router.get(`${pkgPath}/versions/:id`, async (req: Request, res: Response) => {
      const at = await address(req);
      res.json(versionJson(req, at.owner, at.name, await service.getVersion(actorOf(req), at, versionId(req))));
    });
    router.delete(`${pkgPath}/versions/:id`, async (req: Request, res: Response) => {
      const scope = {
        tree: optionalEnum(req, 'tree', ['true', 'false'] as const) === 'true',
        detach: optionalEnum(req, 'detach', ['true', 'false'] as const) === 'true',
      };
      await service.deleteVersions(actorOf(req), await address(req), [versionId(req)], scope);
      res.status(204).end();
    });
    // Berth's own: one tag of a version, the version and its other tags untouched.
    router.delete(`${pkgPath}/versions/:id/tags/:tag`, async (req: Request, res: Response) => {
      await service.deleteTag(actorOf(req), await address(req), versionId(req), pathParam(req, 'tag'));
      res.status(204).end();
    });
    router.post(`${pkgPath}/versions/:id/restore`, async (req: Request, res: Response) => {
      const restored = await service.restoreVersion(actorOf(req), await address(req), versionId(req));
      // GitHub answers 204; which tags stayed where they had moved is Berth's to say, in a header.
      if (restored.tagsMoved.length > 0) {
        res.set('Berth-Tags-Moved', restored.tagsMoved.map((m) => `${m.tag}=${m.digest}`).join(', '));
      }
      res.status(204).end();
    });
  }

  router.get('/user', async (req: Request, res: Response) => {
    res.json(ownerJson(req, await service.self(actorOf(req))));
  });
  router.get('/users/:login', async (req: Request, res: Response) => {
    res.json(ownerJson(req, await service.owner(pathParam(req, 'login'))));
  });
  router.get('/rate_limit', (_req: Request, res: Response) => {
    const core = rateLimit();
    res.json({ resources: { core }, rate: core });
  });

  router.use((req: Request, _res: Response, next: NextFunction) => next(new RouteNotFound({ path: req.originalUrl.split('?')[0] })));
  router.use(bodyParserErrors);
  router.use(renderGitHubErrors());
  return router;
}

const PACKAGE_TYPES = new Set(['npm', 'maven', 'rubygems', 'docker', 'nuget', 'container']);

/** Berth does not rate-limit this API; the headers say so the way GitHub's clients read them. */
const RATE_LIMIT = 5000;

function rateLimit() {
  return { limit: RATE_LIMIT, remaining: RATE_LIMIT, reset: Math.floor(Date.now() / 1000) + 3600, used: 0, resource: 'core' };
}

function githubHeaders(_req: Request, res: Response, next: NextFunction): void {
  const limit = rateLimit();
  res.set({
    'X-GitHub-Media-Type': 'github.v3; format=json',
    'X-RateLimit-Limit': String(limit.limit),
    'X-RateLimit-Remaining': String(limit.remaining),
    'X-RateLimit-Reset': String(limit.reset),
    'X-RateLimit-Used': '0',
    'X-RateLimit-Resource': 'core',
  });
  next();
}

/** GitHub takes a token as `Authorization: token <PAT>` too: the same as Bearer. */
function tokenScheme(req: Request, _res: Response, next: NextFunction): void {
  const header = req.headers.authorization;
  if (header && /^token\s/i.test(header.trim())) req.headers.authorization = `Bearer ${header.trim().slice(6).trim()}`;
  next();
}

/** `X-OAuth-Scopes`: what the caller's credential allows, in GitHub's scope names. */
function scopeHeader(req: Request, res: Response, next: NextFunction): void {
  res.set('X-OAuth-Scopes', scopesOf(actorOf(req)).join(', '));
  next();
}

function scopesOf(principal: Principal): TokenScope[] {
  const all = Object.keys(TOKEN_SCOPES) as TokenScope[];
  if (principal.kind === 'anonymous') return [];
  if (principal.kind === 'ci') return ['read:packages', 'write:packages'];
  if (principal.allowed === null) return all;
  const { allowed, grants } = principal;
  return all.filter((scope) => (isGrantScope(scope) ? (grants?.has(scope) ?? false) : TOKEN_SCOPES[scope].every((a) => allowed.has(a))));
}

function pathParam(req: Request, key: string): string {
  const value = (req.params as Record<string, string | undefined>)[key];
  if (value === undefined) throw new RouteNotFound(`missing ${key}`);
  return value;
}

function versionId(req: Request): number {
  const raw = pathParam(req, 'id');
  if (!/^\d{1,15}$/.test(raw)) throw new GitHubValidationFailed('package_version_id must be an integer');
  return Number(raw);
}

function optionalEnum<T extends string>(req: Request, key: string, allowed: readonly T[]): T | undefined {
  const raw = req.query[key];
  if (raw === undefined) return undefined;
  if (typeof raw === 'string' && (allowed as readonly string[]).includes(raw)) return raw as T;
  throw new GitHubValidationFailed(`${key} must be one of ${allowed.join(', ')}`);
}
