import type { Request } from 'express';
import type { PackageSummary, VersionView } from '../../auth/management/package-version-service';
import type { Account } from '../../auth/stores/account-store';

/** Where the API was reached (`http://host:port`): GitHub's URLs in bodies and Link headers are absolute. */
export function origin(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

/** `/orgs/x` or `/users/x`: GitHub's canonical path of an owner, whichever prefix the request used. */
function ownerPath(owner: Account): string {
  return `${owner.kind === 'org' ? 'orgs' : 'users'}/${owner.name}`;
}

export function ownerJson(req: Request, owner: Account) {
  return {
    login: owner.name,
    id: owner.id,
    type: owner.kind === 'org' ? 'Organization' : 'User',
    site_admin: owner.isAdmin,
    url: `${origin(req)}/api/v3/users/${owner.name}`,
  };
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** GitHub's package object. */
export function packageJson(req: Request, pkg: PackageSummary) {
  const path = `${ownerPath(pkg.owner)}/packages/container/${encodeURIComponent(pkg.name)}`;
  return {
    id: pkg.id,
    name: pkg.name,
    package_type: 'container',
    owner: ownerJson(req, pkg.owner),
    version_count: pkg.versionCount,
    visibility: pkg.visibility,
    url: `${origin(req)}/api/v3/${path}`,
    html_url: `${origin(req)}/${ownerPath(pkg.owner)}/packages/container/package/${encodeURIComponent(pkg.name)}`,
    repository: pkg.repository
      ? { id: pkg.repository.id, full_name: pkg.repository.fullName, private: pkg.repository.visibility === 'private' }
      : null,
    created_at: iso(pkg.createdAt),
    updated_at: iso(pkg.updatedAt),
  };
}

/**
 * GitHub's package version object; Berth's own facts under
 * `metadata.container.berth`. Digests, tags and media types passed the OCI
 * grammar on push; annotations and labels (free text a pusher wrote) are not shown.
 */
export function versionJson(req: Request, owner: Account, packageName: string, version: VersionView) {
  const name = encodeURIComponent(packageName);
  const { facts } = version;
  return {
    id: version.id,
    name: version.digest,
    url: `${origin(req)}/api/v3/${ownerPath(owner)}/packages/container/${name}/versions/${version.id}`,
    package_html_url: `${origin(req)}/${ownerPath(owner)}/packages/container/package/${name}`,
    html_url: `${origin(req)}/${ownerPath(owner)}/packages/container/${name}/${version.id}`,
    license: null,
    description: null,
    created_at: iso(version.createdAt),
    updated_at: iso(version.updatedAt),
    ...(version.deletedAt !== null ? { deleted_at: iso(version.deletedAt) } : {}),
    metadata: {
      package_type: 'container',
      container: {
        tags: version.tags,
        berth: {
          media_type: version.mediaType,
          artifact_type: version.artifactType,
          subject: version.subject,
          platform: facts.platform,
          size: facts.size,
          parents: facts.parents,
          referrers: facts.referrers,
        },
      },
    },
  };
}
