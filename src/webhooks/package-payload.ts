import type { Account } from '../auth/stores/account-store';
import type { SourceRepository } from '../auth/stores/source-repository-store';
import { organizationObject, repositoryObject, userObject } from './github-objects';

/** The labels GitHub lifts out of an image's config into `container_metadata.labels`. */
const NAMED_LABELS = {
  description: 'org.opencontainers.image.description',
  source: 'org.opencontainers.image.source',
  revision: 'org.opencontainers.image.revision',
  image_url: 'org.opencontainers.image.url',
  licenses: 'org.opencontainers.image.licenses',
} as const;

/** A pusher's labels are theirs to write: at most this many, each value cut to this length. */
const MAX_LABELS = 100;
const MAX_LABEL_LENGTH = 1024;

export interface PushedManifest {
  digest: string;
  mediaType: string;
  size: number;
  /** The manifest's JSON, as stored (already validated at push). */
  content: Buffer;
}

export interface PackagePayloadInput {
  action: 'published' | 'updated';
  /** Berth's URL (`https://registry.example`); the API is at `/api/v3` under it. */
  web: string;
  owner: Account;
  /** The full OCI repository name, `owner/name…`. */
  repository: string;
  packageId: number;
  packageCreatedAt: number;
  versionId: number;
  /** The tag the version was pushed under first; every tag of its burst is in `tags`. */
  tag: string;
  /** Every tag pushed onto this version in one burst (a build that tags `1.2.3`, `1.2` and `latest` at once). */
  tags: readonly string[];
  manifest: PushedManifest;
  /** The image config's labels (null: none, or not an image). */
  labels: Record<string, unknown> | null;
  source: SourceRepository | null;
  sender: Account;
  at: number;
}

/** GitHub's timestamps: ISO 8601 in UTC to the second (`2026-12-08T05:30:00Z`). */
function iso(ms: number): string {
  const text = new Date(ms).toISOString();
  // `…T05:30:00.123Z`: the milliseconds cut by position (a regex here was 16 µs of the relay's ~450 per event).
  return text.length === 24 ? `${text.slice(0, 19)}Z` : text.replace(/\.\d{3}Z$/, 'Z');
}

/**
 * GitHub's `package` webhook payload for a container package (published: a new version; updated:
 * a tag moved to an existing one). An index lists its platforms under `container_metadata.manifest.
 * platforms`: one event per logical push, not one per platform manifest.
 */
export function packagePayload(input: PackagePayloadInput) {
  const api = `${input.web}/api/v3`;
  const name = input.repository.slice(input.owner.name.length + 1);
  const ownerPath = `${input.owner.kind === 'org' ? 'orgs' : 'users'}/${input.owner.name}`;
  const packageHtml = `${input.web}/${ownerPath}/packages/container/package/${encodeURIComponent(name)}`;
  const host = new URL(input.web).host;
  const labels = safeLabels(input.labels);
  const at = iso(input.at);
  const packageVersion = {
    id: input.versionId,
    version: input.manifest.digest,
    name: input.manifest.digest,
    summary: '',
    description: '',
    html_url: `${packageHtml}/${input.versionId}`,
    metadata: [],
    package_files: [],
    installation_command: `docker pull ${host}/${input.repository}:${input.tag}`,
    package_url: `${host}/${input.repository}:${input.tag}`,
    created_at: at,
    updated_at: at,
    author: userObject(api, input.web, input.sender),
    // GitHub's `container_metadata.tag` holds one tag and admits no other key; the burst's tags go here.
    docker_metadata: [{ tags: [...input.tags] }],
    container_metadata: {
      tag: { name: input.tag, digest: input.manifest.digest },
      labels: {
        ...Object.fromEntries(Object.entries(NAMED_LABELS).map(([key, label]) => [key, labels[label] ?? ''])),
        all_labels: labels,
      },
      manifest: manifestObject(input.manifest, `${host}/${input.repository}@${input.manifest.digest}`),
    },
  };
  return {
    action: input.action,
    package: {
      id: input.packageId,
      name,
      namespace: input.owner.name,
      description: labels[NAMED_LABELS.description] ?? null,
      ecosystem: 'CONTAINER',
      package_type: 'CONTAINER',
      html_url: packageHtml,
      created_at: iso(input.packageCreatedAt),
      updated_at: at,
      owner: userObject(api, input.web, input.owner),
      package_version: packageVersion,
      registry: {
        about_url: 'https://github.com/berth-registry/berth',
        name: 'Berth',
        type: 'container',
        url: `${input.web}/v2/`,
        vendor: 'Berth',
      },
    },
    ...(input.source ? { repository: repositoryObject(api, input.web, input.source, input.owner) } : {}),
    ...(input.owner.kind === 'org' ? { organization: organizationObject(api, input.web, input.owner) } : {}),
    sender: userObject(api, input.web, input.sender),
  };
}

interface ManifestJson {
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Array<Descriptor & { platform?: { os?: string; architecture?: string; variant?: string } }>;
}

interface Descriptor {
  digest?: string;
  mediaType?: string;
  size?: number;
}

/** The manifest as GitHub describes it (digest, media type, size, config, layers); an index lists its platforms. */
function manifestObject(manifest: PushedManifest, uri: string) {
  let parsed: ManifestJson = {};
  try {
    parsed = JSON.parse(manifest.content.toString('utf8')) as ManifestJson;
  } catch {
    // Validated at push; a manifest that is not JSON here is described by its descriptor alone.
  }
  const describe = (d: Descriptor) => ({
    digest: String(d.digest ?? ''),
    media_type: String(d.mediaType ?? ''),
    size: Number(d.size ?? 0),
  });
  return {
    digest: manifest.digest,
    media_type: manifest.mediaType,
    uri,
    size: manifest.size,
    ...(parsed.config ? { config: describe(parsed.config) } : {}),
    layers: (parsed.layers ?? []).map(describe),
    ...(parsed.manifests
      ? {
          platforms: parsed.manifests.map((m) => ({
            ...describe(m),
            os: String(m.platform?.os ?? ''),
            architecture: String(m.platform?.architecture ?? ''),
            ...(m.platform?.variant ? { variant: String(m.platform.variant) } : {}),
          })),
        }
      : {}),
  };
}

/** String labels only, bounded in number and length. */
function safeLabels(labels: Record<string, unknown> | null): Record<string, string> {
  const safe: Record<string, string> = {};
  if (!labels) return safe;
  for (const [key, value] of Object.entries(labels).slice(0, MAX_LABELS)) {
    if (typeof value === 'string') safe[key.slice(0, MAX_LABEL_LENGTH)] = value.slice(0, MAX_LABEL_LENGTH);
  }
  return safe;
}

export interface BerthPayloadInput {
  action: 'deleted' | 'restored' | 'linked' | 'unlinked' | 'visibility_changed' | 'promoted';
  web: string;
  owner: Account;
  repository: string;
  packageId: number;
  source: SourceRepository | null;
  at: number;
  /** For `berth_tag`: the tag and the digest it named. */
  tag?: { name: string; digest: string };
  /** For `berth_package_version`: the version (its id, null when it is gone since). */
  version?: { id: number | null; digest: string };
  /** For `berth_package` `visibility_changed`: the new visibility. */
  visibility?: string;
  /** For `berth_package` `promoted`: the version's digest and where it went. */
  promotion?: { digest: string; target: string };
  /** Who made the change; the package's owner when the change names nobody (the CLI, a package-store change). */
  sender?: Account;
}

/**
 * Berth's own events (`berth_tag`, `berth_package_version`, `berth_package`), for what GitHub sends nothing:
 * GitHub's objects for the package, its owner, organisation and repository, and what changed.
 */
export function berthPayload(input: BerthPayloadInput) {
  const api = `${input.web}/api/v3`;
  const name = input.repository.slice(input.owner.name.length + 1);
  const ownerPath = `${input.owner.kind === 'org' ? 'orgs' : 'users'}/${input.owner.name}`;
  return {
    action: input.action,
    ...(input.tag ? { tag: input.tag } : {}),
    ...(input.visibility ? { visibility: input.visibility } : {}),
    ...(input.promotion ? { promotion: input.promotion } : {}),
    ...(input.version ? { package_version: { id: input.version.id, version: input.version.digest, name: input.version.digest } } : {}),
    package: {
      id: input.packageId,
      name,
      namespace: input.owner.name,
      package_type: 'CONTAINER',
      html_url: `${input.web}/${ownerPath}/packages/container/package/${encodeURIComponent(name)}`,
      owner: userObject(api, input.web, input.owner),
    },
    ...(input.source ? { repository: repositoryObject(api, input.web, input.source, input.owner) } : {}),
    ...(input.owner.kind === 'org' ? { organization: organizationObject(api, input.web, input.owner) } : {}),
    sender: userObject(api, input.web, input.sender ?? input.owner),
    at: iso(input.at),
  };
}
