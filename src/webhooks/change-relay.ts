import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { IdentityStores } from '../auth/stores/identity-stores';
import type { Account } from '../auth/stores/account-store';
import type { Logger } from '../log';
import type { MetadataChange, MetadataIndex, PushedVersion } from '../metadata/metadata-index';
import type { Hook, HookScope, HookStore, NewDelivery } from './hook-store';
import { berthPayload, packagePayload } from './package-payload';
import { SerialRunner } from './serial-runner';
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
  /** How long a new version waits for the rest of its burst (BURST_MS unless a test says otherwise). */
  burstMs?: number;
}

/**
 * How long a new version waits for the rest of its burst before it is announced. A build that pushes one
 * image under several tags (buildx `-t 1.2.3 -t latest`, a tag pushed right after a push by digest) writes
 * them milliseconds apart; they are folded into the version's one `published` event instead of a
 * `published` and then an `updated` per tag. A second is far above those gaps and small beside GitHub's
 * own delivery delays.
 */
const BURST_MS = 1_000;

/**
 * The relay's lease: renewed by every pass (at least each poll, a second apart), so a process that died gives it
 * up within this long.
 */
const RELAY_LEASE_MS = 5_000;

const BATCH = 100;

/**
 * While bursts are held, passes wait for the first one due but at least this long (capped by the burst time), so
 * that a steady stream of pushes (one due every 2 ms at 500 PUTs/s) is relayed a hundred milliseconds' worth at a
 * time, not one entry per pass, each pass paying the journal read and the lease.
 */
const HELD_PASS_GAP_MS = 100;

/** How long a kick waits, so that a burst of pushes is read in one batch. */
const KICK_DELAY_MS = 20;

const PACKAGE_ACTIONS = {
  linked: 'linked',
  unlinked: 'unlinked',
  visibility: 'visibility_changed',
  deleted: 'deleted',
  restored: 'restored',
  promoted: 'promoted',
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
  /** Wakes the relay when the oldest held burst is due. */
  private wake: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly owner = `relay-${randomUUID()}`;
  /** Until when this process holds the relay's lease (0: not held). */
  private leaseUntil = 0;
  /** Lookups shared by the entries of one batch (packages, senders, versions), so they see one state of the model. */
  private batch = newBatchMemo([]);
  /** Labels by config digest, oldest dropped first. */
  private readonly labelCache = new Map<string, Record<string, unknown> | null>();
  private readonly runner = new SerialRunner(
    () => this.drain(),
    (err) => this.log.warn({ err }, 'relaying registry changes to webhooks failed'),
  );

  constructor(
    private readonly index: Pick<MetadataIndex, 'changes' | 'acknowledgeChanges' | 'pushedVersions'>,
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
    // While bursts are held the wake reads the journal when the first is due: a kick cannot make it due sooner,
    // and read now it finds the same held entries again (a pass every 20 ms during a run of pushes: 0.23 ms
    // of relay CPU per PUT with no hook at all). An entry due at once waits at most for that wake.
    if (this.wake) return;
    if (this.runner.busy) return this.runner.request();
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.runner.request();
    }, KICK_DELAY_MS);
    this.soon.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.soon) clearTimeout(this.soon);
    if (this.wake) clearTimeout(this.wake);
    this.timer = undefined;
    await this.runner.close();
  }

  /**
   * Relays batches until both journals (the index's and the package store's) are empty, when this process holds
   * the relay's lease (another process relaying now reads the same entries, so this one stays out).
   */
  async drain(): Promise<void> {
    if (!(await this.holdingLease())) return;
    await this.drainPackages();
    for (;;) {
      if (!(await this.holdingLease())) return;
      const read = await this.index.changes(BATCH);
      if (read.length === 0) return;
      const plan = planBatch(read, Date.now(), this.options.burstMs ?? BURST_MS);
      this.batch = newBatchMemo(plan.units.map((unit) => (unit.kind === 'burst' ? unit.first : unit.change)));
      const deliveries: NewDelivery[] = [];
      // With no active hook (the common case on a registry that uses none) a batch is only acknowledged.
      if (await this.hooks.anyActive()) for (const unit of plan.units) deliveries.push(...(await this.deliveriesOf(unit)));
      // Queued before acknowledged: a crash in between reads the entries again, and the
      // (hook, source) key keeps them from being queued twice.
      await this.hooks.enqueue(deliveries, Date.now());
      if (deliveries.length > 0) this.options.onQueued?.();
      await this.index.acknowledgeChanges(plan.handled);
      if (this.closed) return;
      if (plan.dueAt !== null) {
        // Bursts still open stay in the journal; the relay looks again when the first is due.
        this.wakeAt(plan.dueAt);
        return;
      }
    }
  }

  /**
   * Takes or renews the lease (each batch checks it, so a long pass keeps it). A held lease is renewed in the
   * database only past half its life: each renewal is a write, a transaction of its own on SQLite, and passes run
   * many times a second while pushes arrive.
   */
  private async holdingLease(): Promise<boolean> {
    const now = Date.now();
    if (now < this.leaseUntil - RELAY_LEASE_MS / 2) return true;
    const held = await this.hooks.holdRelayLease(this.owner, now, RELAY_LEASE_MS);
    this.leaseUntil = held ? now + RELAY_LEASE_MS : 0;
    return held;
  }

  private wakeAt(at: number): void {
    if (this.wake || this.closed) return;
    this.wake = setTimeout(
      () => {
        this.wake = undefined;
        this.kick();
      },
      Math.max(at - Date.now(), Math.min(HELD_PASS_GAP_MS, this.options.burstMs ?? BURST_MS)),
    );
    this.wake.unref();
  }

  /** The package store's journal: Berth's `berth_package` event. */
  private async drainPackages(): Promise<void> {
    const packages = this.identities?.packages;
    if (!packages) return;
    for (;;) {
      if (!(await this.holdingLease())) return;
      const changes = await packages.changes(BATCH);
      if (changes.length === 0) return;
      this.batch = newBatchMemo([]);
      const deliveries: NewDelivery[] = [];
      const anyActive = await this.hooks.anyActive();
      for (const change of changes) {
        if (!anyActive) break;
        const target = await this.target(change.name, 'berth_package', []);
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
          ...(change.promotion ? { promotion: change.promotion } : {}),
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

  private async deliveriesOf(unit: RelayUnit): Promise<NewDelivery[]> {
    if (unit.kind === 'burst') return this.packageDeliveries(unit.first, unit.tags, 'published');
    const { change } = unit;
    if (change.kind !== 'manifest.pushed') return this.berthDeliveries(change);
    // A tag pushed again onto its digest changes nothing; a push by digest alone announces nothing.
    if (change.tag === null || change.previousDigest === change.digest) return [];
    return this.packageDeliveries(change, [change.tag], 'updated');
  }

  /**
   * GitHub's `package` event: `published` for a new version (with every tag of its burst), `updated` for a
   * tag moved onto an existing one. A version pushed without a tag in its burst (an index's platform
   * manifests, pushed before it) is announced by nothing of its own: the index's event lists it.
   */
  private async packageDeliveries(
    change: MetadataChange,
    tags: readonly string[],
    action: 'published' | 'updated',
  ): Promise<NewDelivery[]> {
    const tag = tags[0];
    if (tag === undefined || change.digest === null) return [];
    const target = await this.target(change.repository, 'package', tags);
    if (!target) return [];
    // The push happened, so it is announced even when the version was deleted before the entry
    // was read: then from what the journal kept (digest and media type) and the version's id.
    const version = await this.version(change.repository, change.digest);
    if (!version) return [];
    const { versionId, manifest } = version;
    const pushed = manifest ?? {
      digest: change.digest,
      mediaType: change.mediaType ?? '',
      size: 0,
      content: Buffer.from('{}'),
      configDigest: null,
    };
    const payload = packagePayload({
      action,
      web: this.options.web,
      owner: target.owner,
      repository: change.repository,
      packageId: target.packageId,
      packageCreatedAt: target.packageCreatedAt,
      versionId,
      tag,
      tags,
      manifest: { digest: pushed.digest, mediaType: pushed.mediaType, size: pushed.size, content: pushed.content },
      labels: pushed.configDigest ? await this.labels(pushed.configDigest) : null,
      source: target.source,
      sender: await this.sender(change, target.owner),
      at: change.at,
    });
    return deliveries(target.hooks, change, 'package', action, payload);
  }

  /** Berth's own events, for what GitHub sends nothing: a tag deleted, a version deleted or restored. */
  private async berthDeliveries(change: MetadataChange): Promise<NewDelivery[]> {
    const event = change.kind === 'tag.deleted' ? 'berth_tag' : 'berth_package_version';
    const target = await this.target(change.repository, event, change.tag === null ? [] : [change.tag]);
    if (!target || change.kind === 'manifest.pushed') return [];
    const action = change.kind === 'version.restored' ? 'restored' : 'deleted';
    const versionId =
      change.kind !== 'tag.deleted' && change.digest !== null
        ? ((await this.version(change.repository, change.digest))?.versionId ?? null)
        : null;
    const payload = berthPayload({
      action,
      web: this.options.web,
      owner: target.owner,
      repository: change.repository,
      packageId: target.packageId,
      source: target.source,
      at: change.at,
      sender: await this.sender(change, target.owner),
      ...(change.kind === 'tag.deleted'
        ? { tag: { name: change.tag ?? '', digest: change.previousDigest ?? '' } }
        : { version: { id: versionId, digest: change.digest ?? '' } }),
    });
    return deliveries(target.hooks, change, event, action, payload);
  }

  /**
   * The version a digest is (its id never changes, whatever state the version is in by the time an entry is read) and
   * its manifest while live. The batch's versions of a repository are read in one lookup, on the first one asked for.
   */
  private async version(repository: string, digest: string): Promise<PushedVersion | undefined> {
    const digests = this.batch.digests.get(repository) ?? [];
    if (!digests.includes(digest)) return (await this.index.pushedVersions(repository, [digest])).get(digest);
    const versions = await memo(this.batch.versions, repository, () => this.index.pushedVersions(repository, digests));
    return versions.get(digest);
  }

  /** Who made a change: the account the journal names, else (the CLI, or an account deleted since) the package's owner. */
  private async sender(change: MetadataChange, owner: Account): Promise<Account> {
    const { actor } = change;
    if (actor === null || !this.identities) return owner;
    const accounts = this.identities.accounts;
    return (await memo(this.batch.senders, actor, () => accounts.accountByName(actor))) ?? owner;
  }

  /**
   * The package a change is about, with the active hooks (organisation, repository, instance) that want the
   * event: for a tag filter, any of the change's tags (none: only hooks without one).
   */
  private async target(repository: string, event: string, tags: readonly string[]) {
    const found = await memo(this.batch.packages, repository, () => this.packageTarget(repository));
    if (!found) return null;
    const hooks = found.hooks.filter((h) =>
      tags.length === 0 ? wants(h, event, repository, null) : tags.some((tag) => wants(h, event, repository, tag)),
    );
    return hooks.length === 0 ? null : { ...found, hooks };
  }

  /** The package, its owner and repository, and every active hook over it (read once per batch: a burst of pushes
   * to one package is one lookup, not one per entry). */
  private async packageTarget(repository: string) {
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
    const hooks = await this.hooks.activeHooks(scopes);
    return { owner, source, hooks, packageId: state.id, packageCreatedAt: pkg.createdAt };
  }

  /** The image config's labels; null when it is not a readable image config. */
  private async labels(configDigest: string): Promise<Record<string, unknown> | null> {
    // A config never changes under its digest: read each once (pushes of one image under many tags share it).
    if (this.labelCache.has(configDigest)) return this.labelCache.get(configDigest) ?? null;
    const labels = await this.readLabels(configDigest);
    if (this.labelCache.size >= LABEL_CACHE_SIZE) this.labelCache.delete(this.labelCache.keys().next().value as string);
    this.labelCache.set(configDigest, labels);
    return labels;
  }

  private async readLabels(configDigest: string): Promise<Record<string, unknown> | null> {
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

const LABEL_CACHE_SIZE = 256;

type PackageTarget = Awaited<ReturnType<ChangeRelay['packageTarget']>>;
interface BatchMemo {
  packages: Map<string, Promise<PackageTarget>>;
  senders: Map<string, Promise<Account | null>>;
  /** The digests the batch's entries name, by repository: what one lookup of a repository's versions reads. */
  digests: Map<string, string[]>;
  versions: Map<string, Promise<Map<string, PushedVersion>>>;
}

function newBatchMemo(changes: readonly MetadataChange[]): BatchMemo {
  const digests = new Map<string, string[]>();
  for (const { repository, digest } of changes) {
    if (digest === null) continue;
    const some = digests.get(repository);
    if (some) some.push(digest);
    else digests.set(repository, [digest]);
  }
  return { packages: new Map(), senders: new Map(), digests, versions: new Map() };
}

function memo<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let found = cache.get(key);
  if (!found) {
    found = load();
    cache.set(key, found);
  }
  return found;
}

/** A new version with the tags of its burst (entries acknowledged together), or one journal entry on its own. */
type RelayUnit = { kind: 'burst'; first: MetadataChange; tags: string[] } | { kind: 'single'; change: MetadataChange };

interface BatchPlan {
  units: RelayUnit[];
  /** The entries the units cover, acknowledged once their deliveries are queued. */
  handled: number[];
  /** When the first entry left in the journal (a burst still open) is due; null when none is left. */
  dueAt: number | null;
}

/**
 * Folds each new version's burst: a push that made a version is held until `burstMs` after it, and every
 * push of the same digest in that time joins its event (the first entry's id keys the deliveries, so a
 * second reader queues the same ones). Other entries are units of their own; pushes wait out the same
 * time, so a tag push never overtakes the burst it belongs to.
 */
export function planBatch(read: readonly MetadataChange[], now: number, burstMs: number): BatchPlan {
  const plan: BatchPlan = { units: [], handled: [], dueAt: null };
  const bursts = new Map<string, { first: MetadataChange; tags: string[] }>();
  const held = new Set<string>();
  const hold = (at: number) => {
    plan.dueAt = plan.dueAt === null ? at : Math.min(plan.dueAt, at);
  };
  for (const change of read) {
    if (change.kind !== 'manifest.pushed' || change.digest === null) {
      plan.units.push({ kind: 'single', change });
      plan.handled.push(change.id);
      continue;
    }
    const key = `${change.repository}@${change.digest}`;
    const burst = bursts.get(key);
    if (burst && change.at <= burst.first.at + burstMs) {
      if (change.tag !== null && !burst.tags.includes(change.tag)) burst.tags.push(change.tag);
      plan.handled.push(change.id);
      continue;
    }
    const dueAt = change.at + burstMs;
    if (held.has(key) || dueAt > now) {
      if (change.newVersion) held.add(key);
      hold(dueAt);
      continue;
    }
    plan.handled.push(change.id);
    if (change.newVersion) {
      const opened = { first: change, tags: change.tag === null ? [] : [change.tag] };
      bursts.set(key, opened);
      plan.units.push({ kind: 'burst', ...opened });
    } else {
      plan.units.push({ kind: 'single', change });
    }
  }
  return plan;
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
