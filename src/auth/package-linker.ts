import type { Readable } from 'node:stream';
import type { ManifestPushedEvent } from '../events/registry-events';
import type { Logger } from '../log';
import type { Authorizer } from './authorizer';
import type { IdentityStores } from './stores/identity-stores';
import type { Principal } from './principal';

/** The label (image config) or annotation (manifest) naming a package's source repository. */
export const SOURCE_LABEL = 'org.opencontainers.image.source';

/** Image configs are small JSON; anything bigger is not read for labels. */
const MAX_CONFIG_BYTES = 1024 * 1024;
const MAX_CACHED_LABELS = 10_000;

const IMAGE_CONFIG_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.oci.image.config.v1+json',
  'application/vnd.docker.container.image.v1+json',
]);

export interface ConfigReader {
  /** Streams a blob; the linker reads image configs through it. */
  open(digest: string): Promise<Readable>;
}

/**
 * Links a package to a source repository when a pushed manifest says where
 * it comes from (`org.opencontainers.image.source` annotation, or the label
 * in its image config) and that URL names a repository on this registry
 * that the pusher can write. Only an unlinked package is linked: moving a
 * package between repositories is an explicit admin action.
 */
export class PackageLinker {
  /** Source labels of image configs read so far, by config digest (null: none); oldest dropped first. */
  private readonly labels = new Map<string, string | null>();

  constructor(
    private readonly identities: Pick<IdentityStores, 'packages' | 'repositories'>,
    private readonly authorizer: Authorizer,
    private readonly configs: ConfigReader,
    private readonly log: Logger,
    /** The registry's public origin; when unset, the origin the client used. */
    private readonly publicOrigin?: string,
  ) {}

  async onManifestPushed(event: ManifestPushedEvent): Promise<void> {
    const principal = event.actor.principal as Principal | undefined;
    if (!principal || principal.kind === 'anonymous') return;
    const pkg = await this.identities.packages.package(event.repository);
    if (!pkg || pkg.sourceRepositoryId !== null) return;
    const source = event.annotations?.[SOURCE_LABEL] ?? (await this.configLabel(event));
    if (!source) return;
    const target = this.parseSource(source, event.actor.origin);
    if (!target) return;
    const repository = await this.identities.repositories.repository(target.owner, target.name);
    if (!repository) return;
    const mayWrite =
      principal.kind === 'ci'
        ? principal.repositoryId === repository.id
        : ['write', 'admin'].includes(await this.authorizer.repositoryRole(principal.userId, repository));
    if (!mayWrite) return;
    await this.identities.packages.linkPackage(event.repository, repository.id);
    this.log.info({ package: event.repository, repository: `${target.owner}/${target.name}` }, 'linked package to its source repository');
  }

  /** `<origin>/<owner>/<repo>` (optionally `.git` or a trailing slash) on this registry's origin. */
  private parseSource(source: string, requestOrigin?: string): { owner: string; name: string } | null {
    let url: URL;
    try {
      url = new URL(source);
    } catch {
      return null;
    }
    const origin = this.publicOrigin ?? requestOrigin;
    if (!origin || url.origin !== new URL(origin).origin) return null;
    const parts = url.pathname
      .replace(/\/+$/, '')
      .replace(/\.git$/, '')
      .split('/')
      .filter(Boolean);
    if (parts.length !== 2) return null;
    return { owner: parts[0] as string, name: parts[1] as string };
  }

  private async configLabel(event: ManifestPushedEvent): Promise<string | undefined> {
    if (!event.configDigest || !event.configMediaType || !IMAGE_CONFIG_TYPES.has(event.configMediaType)) return undefined;
    // A config blob never changes under its digest, so neither does its label: read each once.
    // Pushes of an unlinked package otherwise paid a blob read each (~1 ms, conformance/bench).
    if (this.labels.has(event.configDigest)) return this.labels.get(event.configDigest) ?? undefined;
    const label = await this.readConfigLabel(event.configDigest);
    if (this.labels.size >= MAX_CACHED_LABELS) this.labels.delete(this.labels.keys().next().value as string);
    this.labels.set(event.configDigest, label ?? null);
    return label;
  }

  private async readConfigLabel(configDigest: string): Promise<string | undefined> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of await this.configs.open(configDigest)) {
      size += (chunk as Buffer).length;
      if (size > MAX_CONFIG_BYTES) return undefined;
      chunks.push(chunk as Buffer);
    }
    try {
      const config = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { config?: { Labels?: Record<string, unknown> } };
      const label = config.config?.Labels?.[SOURCE_LABEL];
      return typeof label === 'string' ? label : undefined;
    } catch {
      return undefined;
    }
  }
}
