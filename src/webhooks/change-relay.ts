import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { IdentityStores } from '../auth/stores/identity-stores';
import type { Logger } from '../log';
import type { MetadataChange, MetadataIndex } from '../metadata/metadata-index';
import type { Hook, HookScope, HookStore, NewDelivery } from './hook-store';
import { berthPayload, packagePayload } from './package-payload';
import { globMatches } from '../registry/name-glob';

export interface ChangeRelayOptions {
  /** How often the journal is read when nothing kicks the relay. */
  pollIntervalMs: number;
  /** Berth's URL, for the URLs in payloads. */
  web: string;
  /** Streams a blob: image configs are read for their labels. */
  openBlob(digest: string): Promise<Readable>;
  /** Told when deliveries were queued (the delivery worker then polls at once). */
  onQueued?: () => void;
}

const BATCH = 100;

/** How long a kick waits, so that a burst of pushes is read in one batch. */
const KICK_DELAY_MS = 20;

const PACKAGE_ACTIONS = {
  linked: 'linked',
  unlinked: 'unlinked',
  visibility: 'visibility_changed',
  deleted: 'deleted',
  restored: 'restored',
} as const;
const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Turns the metadata index's change journal into webhook deliveries: reads what is committed,
 * queues a delivery per matching hook (one per hook and journal entry: reading an entry twice,
 * after a crash or by two processes at once, queues it once), then acknowledges exactly the
 * entries it read. It keeps no "last id seen", so an entry committed late with a lower id is
 * still read. Runs in the background; a push never waits for it.
 */
export class ChangeRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private soon: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly index: Pick<MetadataIndex, 'changes' | 'acknowledgeChanges' | 'getManifest' | 'listVersions'>,
    /** None in open mode (no packages, no hooks API): entries are then only acknowledged. */
    private readonly identities: Pick<IdentityStores, 'accounts' | 'repositories' | 'packages'> | undefined,
    private readonly hooks: HookStore,
    private readonly log: Logger,
    private readonly options: ChangeRelayOptions,
  ) {}

  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.kick(), this.options.pollIntervalMs);
    this.timer.unref();
    this.kick();
  }

  /**
   * Reads the journal soon (a few milliseconds, so that a burst of pushes is read as one batch,
   * not one read per push), or right after the read in progress.
   */
  kick(): void {
    if (this.closed || this.soon) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.run();
    }, KICK_DELAY_MS);
    this.soon.unref();
  }

  private run(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((err: unknown) => this.log.warn({ err }, 'relaying registry changes to webhooks failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.run();
        }
      });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.soon) clearTimeout(this.soon);
    this.timer = undefined;
    await this.running;
  }

  /** Relays batches until both journals (the index's and the package store's) are empty. */
  async drain(): Promise<void> {
    await this.drainPackages();
    for (;;) {
      const changes = await this.index.changes(BATCH);
      if (changes.length === 0) return;
      const deliveries: NewDelivery[] = [];
      // With no active hook (the common case on a registry that uses none) a batch is only acknowledged.
      if (await this.hooks.anyActive()) for (const change of changes) deliveries.push(...(await this.deliveriesOf(change)));
      // Queued before acknowledged: a crash in between reads the entries again, and the
      // (hook, source) key keeps them from being queued twice.
      await this.hooks.enqueue(deliveries, Date.now());
      if (deliveries.length > 0) this.options.onQueued?.();
      await this.index.acknowledgeChanges(changes.map((c) => c.id));
      if (this.closed) return;
    }
  }

  /** The package store's journal: Berth's `berth_package` event. */
  private async drainPackages(): Promise<void> {
    const packages = this.identities?.packages;
    if (!packages) return;
    for (;;) {
      const changes = await packages.changes(BATCH);
      if (changes.length === 0) return;
      const deliveries: NewDelivery[] = [];
      const anyActive = await this.hooks.anyActive();
      for (const change of changes) {
        if (!anyActive) break;
        const target = await this.target(change.name, 'berth_package', null);
        if (!target) continue;
        const payload = berthPayload({
          action: PACKAGE_ACTIONS[change.kind],
          web: this.options.web,
          owner: target.owner,
          repository: change.name,
          packageId: target.packageId,
          source: target.source,
          at: change.at,
          ...(change.kind === 'visibility' && change.visibility ? { visibility: change.visibility } : {}),
        });
        const body = JSON.stringify(payload);
        for (const hook of target.hooks) {
          deliveries.push({
            hookId: hook.id,
            source: `packages:${change.id}`,
            guid: randomUUID(),
            event: 'berth_package',
            action: payload.action,
            payload: body,
          });
        }
      }
      await this.hooks.enqueue(deliveries, Date.now());
      if (deliveries.length > 0) this.options.onQueued?.();
      await packages.acknowledgeChanges(changes.map((c) => c.id));
      if (this.closed) return;
    }
  }

  private async deliveriesOf(change: MetadataChange): Promise<NewDelivery[]> {
    if (change.kind === 'manifest.pushed') return this.packageDeliveries(change);
    return this.berthDeliveries(change);
  }

  /** GitHub's `package` event: `published` for a new version, `updated` for a tag moved onto one. */
  private async packageDeliveries(change: MetadataChange): Promise<NewDelivery[]> {
    // A push by digest alone (an index's platform manifests, pushed before it) is folded into
    // the event of the tagged push that follows; a tag pushed again onto its digest changes nothing.
    if (change.tag === null || change.digest === null) return [];
    if (!change.newVersion && change.previousDigest === change.digest) return [];
    const target = await this.target(change.repository, 'package', change.tag);
    if (!target) return [];
    // The push happened, so it is announced even when the version was deleted before the entry
    // was read: then from what the journal kept (digest and media type) and the version's id.
    const manifest = await this.index.getManifest(change.repository, change.digest);
    const versionId = await this.versionId(change.repository, change.digest);
    if (versionId === null) return [];
    const pushed = manifest ?? {
      digest: change.digest,
      mediaType: change.mediaType ?? '',
      size: 0,
      content: Buffer.from('{}'),
      configDigest: null,
    };
    const action = change.newVersion ? 'published' : 'updated';
    const payload = packagePayload({
      action,
      web: this.options.web,
      owner: target.owner,
      repository: change.repository,
      packageId: target.packageId,
      packageCreatedAt: target.packageCreatedAt,
      versionId,
      tag: change.tag,
      manifest: { digest: pushed.digest, mediaType: pushed.mediaType, size: pushed.size, content: pushed.content },
      labels: pushed.configDigest ? await this.labels(pushed.configDigest) : null,
      source: target.source,
      // The journal does not name the pusher: the package's owner stands in.
      sender: target.owner,
      at: change.at,
    });
    return deliveries(target.hooks, change, 'package', action, payload);
  }

  /** Berth's own events, for what GitHub sends nothing: a tag deleted, a version deleted or restored. */
  private async berthDeliveries(change: MetadataChange): Promise<NewDelivery[]> {
    const event = change.kind === 'tag.deleted' ? 'berth_tag' : 'berth_package_version';
    const target = await this.target(change.repository, event, change.tag);
    if (!target || change.kind === 'manifest.pushed') return [];
    const action = change.kind === 'version.restored' ? 'restored' : 'deleted';
    const versionId =
      change.kind !== 'tag.deleted' && change.digest !== null ? await this.versionId(change.repository, change.digest) : null;
    const payload = berthPayload({
      action,
      web: this.options.web,
      owner: target.owner,
      repository: change.repository,
      packageId: target.packageId,
      source: target.source,
      at: change.at,
      ...(change.kind === 'tag.deleted'
        ? { tag: { name: change.tag ?? '', digest: change.previousDigest ?? '' } }
        : { version: { id: versionId, digest: change.digest ?? '' } }),
    });
    return deliveries(target.hooks, change, event, action, payload);
  }

  /** A version's id, which never changes, whatever state the version is in by the time an entry is read. */
  private async versionId(repository: string, digest: string): Promise<number | null> {
    for (const state of ['active', 'deleted'] as const) {
      const found = (await this.index.listVersions(repository, { state, digest, limit: 1 })).versions[0];
      if (found) return found.id;
    }
    return null;
  }

  /** The package a change is about, with the active hooks (organisation, repository, instance) that want the event. */
  private async target(repository: string, event: string, tag: string | null) {
    if (!this.identities) return null;
    const { accounts, repositories, packages } = this.identities;
    const pkg = await packages.package(repository);
    if (!pkg) return null;
    const [owner, state, source] = await Promise.all([
      accounts.accountById(pkg.ownerId),
      packages.packageState(pkg.name),
      pkg.sourceRepositoryId === null ? null : repositories.repositoryById(pkg.sourceRepositoryId),
    ]);
    if (!owner || !state) return null;
    const scopes: HookScope[] = [{ kind: 'instance' }];
    if (owner.kind === 'org') scopes.push({ kind: 'org', accountId: owner.id });
    if (source) scopes.push({ kind: 'repository', repositoryId: source.id });
    const hooks = (await this.hooks.activeHooks(scopes)).filter((h) => wants(h, event, repository, tag));
    if (hooks.length === 0) return null;
    return { owner, source, hooks, packageId: state.id, packageCreatedAt: pkg.createdAt };
  }

  /** The image config's labels; null when it is not a readable image config. */
  private async labels(configDigest: string): Promise<Record<string, unknown> | null> {
    try {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of await this.options.openBlob(configDigest)) {
        size += (chunk as Buffer).length;
        if (size > MAX_CONFIG_BYTES) return null;
        chunks.push(chunk as Buffer);
      }
      const config = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { config?: { Labels?: unknown } };
      const labels = config.config?.Labels;
      return labels && typeof labels === 'object' ? (labels as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }
}

/** One delivery per hook, keyed by the journal entry so that reading it twice queues it once. */
function deliveries(hooks: readonly Hook[], change: MetadataChange, event: string, action: string, payload: object): NewDelivery[] {
  const body = JSON.stringify(payload);
  return hooks.map((hook) => ({ hookId: hook.id, source: `metadata:${change.id}`, guid: randomUUID(), event, action, payload: body }));
}

/** Whether a hook asked for this event, for this package and tag (globs: `*` is any run of characters). */
export function wants(hook: Hook, event: string, repository: string, tag: string | null): boolean {
  if (!hook.events.includes(event) && !hook.events.includes('*')) return false;
  if (hook.packageGlob !== null && !globMatches(hook.packageGlob, repository)) return false;
  if (hook.tagGlob !== null && (tag === null || !globMatches(hook.tagGlob, tag))) return false;
  return true;
}
