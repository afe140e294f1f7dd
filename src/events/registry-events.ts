import type { Logger } from '../log';

/** Who caused an event, as the HTTP layer knows them; opaque to the registry services. */
export interface EventActor {
  /** The authenticated principal, when auth is on (see auth/principal.ts). */
  principal?: unknown;
  /** `scheme://host` the client used, for matching links that name this registry. */
  origin?: string;
  /** The principal's account name (absent: anonymous, or open mode), for records kept below auth (the change journal). */
  name?: string;
}

export interface ManifestPushedEvent {
  repository: string;
  digest: string;
  mediaType: string;
  size: number;
  tag?: string;
  /** What `tag` pointed at before this push (null: a new tag); absent for a push by digest. */
  previousDigest?: string | null;
  artifactType: string | null;
  configDigest: string | null;
  configMediaType: string | null;
  subject: string | null;
  annotations: Record<string, string> | null;
  actor: EventActor;
}

export interface ManifestDeletedEvent {
  repository: string;
  digest?: string;
  tag?: string;
  actor: EventActor;
}

/**
 * A manifest served by a GET (by tag or digest): one download of `digest`,
 * the manifest actually sent. Emitted after the response, never awaited:
 * listeners must be cheap and synchronous (an in-memory count).
 */
export interface ManifestPulledEvent {
  repository: string;
  digest: string;
}

/** A version promoted (issue #21), once complete: to another package here, or to another registry. */
export interface PackagePromotedEvent {
  repository: string;
  digest: string;
  /** `owner/name:tag` here, or `https://host/path:tag`. */
  target: string;
  /** The referrers that went with it. */
  referrers: string[];
  actor: EventActor;
}

export interface RegistryEventMap {
  'manifest.pushed': ManifestPushedEvent;
  'manifest.deleted': ManifestDeletedEvent;
  'manifest.pulled': ManifestPulledEvent;
  'package.promoted': PackagePromotedEvent;
}

type Listener<E> = (event: E) => Promise<void> | void;

/**
 * Registry events, emitted only after the change is committed. Listeners
 * run in order and are awaited, so a client that gets its 201 sees their
 * effects; a failing listener is logged and never undoes the change.
 */
export class RegistryEvents {
  private readonly listeners: { [K in keyof RegistryEventMap]: Array<Listener<RegistryEventMap[K]>> } = {
    'manifest.pushed': [],
    'manifest.deleted': [],
    'manifest.pulled': [],
    'package.promoted': [],
  };

  constructor(private readonly log: Logger) {}

  on<K extends keyof RegistryEventMap>(type: K, listener: Listener<RegistryEventMap[K]>): void {
    this.listeners[type].push(listener);
  }

  async emit<K extends keyof RegistryEventMap>(type: K, event: RegistryEventMap[K]): Promise<void> {
    for (const listener of this.listeners[type]) {
      try {
        await listener(event);
      } catch (err) {
        this.log.error({ err, event: type }, 'event listener failed');
      }
    }
  }
}
