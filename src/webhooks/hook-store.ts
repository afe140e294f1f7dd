/** Where a hook listens: an organisation's packages, a source repository's linked packages, or every package. */
export type HookScope = { kind: 'org'; accountId: number } | { kind: 'repository'; repositoryId: number } | { kind: 'instance' };

export type HookContentType = 'json' | 'form';

/** What a hook is configured with. The secret is write-only: the API never returns it. */
export interface HookSettings {
  url: string;
  /** The HMAC key of `X-Hub-Signature-256`; null sends no signature. */
  secret: string | null;
  contentType: HookContentType;
  /** Event names (`package`, `ping`…) or `*` for every event. */
  events: readonly string[];
  /** Optional globs (`*` matches any run of characters) on the package name and on the tag. */
  packageGlob: string | null;
  tagGlob: string | null;
  active: boolean;
}

export interface Hook extends HookSettings {
  id: number;
  scope: HookScope;
  createdAt: number;
  updatedAt: number;
  /** Why the hook was switched off by Berth (a 410, or failing for days); null when it was not. */
  disabledReason: string | null;
}

/** One event for one hook: sent until delivered or out of attempts, under the same GUID every time. */
export interface Delivery {
  id: number;
  hookId: number;
  /** `X-GitHub-Delivery`: the same on every retry and redelivery, so receivers can drop duplicates. */
  guid: string;
  event: string;
  action: string | null;
  /** The JSON payload, as signed and sent. */
  payload: string;
  state: 'pending' | 'delivered' | 'failed';
  /** Attempts made so far. */
  attempts: number;
  nextAttemptAt: number;
  /** The next attempt is a redelivery asked for through the API. */
  redelivery: boolean;
  createdAt: number;
}

/** One HTTP request of a delivery, as the delivery log keeps it (bodies cut at 64 KiB). */
export interface DeliveryAttempt {
  id: number;
  deliveryId: number;
  hookId: number;
  guid: string;
  event: string;
  action: string | null;
  attempt: number;
  redelivery: boolean;
  at: number;
  durationMs: number;
  /** The receiver's HTTP status; 0 when no response came (refused, timed out, unreachable). */
  statusCode: number;
  /** `OK`, or what went wrong (`Internal Server Error`, `timed out`, `address refused`…). */
  status: string;
  requestHeaders: Record<string, string>;
  requestBody: string;
  responseHeaders: Record<string, string>;
  responseBody: string;
}

export type NewAttempt = Omit<DeliveryAttempt, 'id' | 'deliveryId' | 'hookId' | 'guid' | 'event' | 'action' | 'redelivery'>;

/** What becomes of a delivery after an attempt. */
export type AttemptOutcome = { state: 'delivered' } | { state: 'failed' } | { state: 'pending'; nextAttemptAt: number };

export interface NewDelivery {
  hookId: number;
  /**
   * The change it came from (`metadata:42`): a second delivery of one change to one hook is not
   * queued, so a change read twice (a crash before it was acknowledged) is sent once. Null: always queued.
   */
  source: string | null;
  guid: string;
  event: string;
  action: string | null;
  payload: string;
}

/**
 * Hooks, their deliveries (the webhook outbox) and the delivery log. Deliveries
 * are claimed under a lease so that one attempt per delivery runs at a time
 * across workers and replicas.
 */
export interface HookStore {
  createHook(scope: HookScope, settings: HookSettings, now: number): Promise<Hook>;
  hook(id: number): Promise<Hook | null>;
  /** The hooks of one scope, by id. */
  hooksOf(scope: HookScope): Promise<Hook[]>;
  /** Whether any hook is active: when none is, changes need not be looked at. */
  anyActive(): Promise<boolean>;
  /**
   * Takes or renews the relay's lease for `owner` until `now + ttlMs`; false while another owner holds one that
   * has not expired. One relay at a time across workers and replicas.
   */
  holdRelayLease(owner: string, now: number, ttlMs: number): Promise<boolean>;
  /** Active hooks of any of the scopes, by id. */
  activeHooks(scopes: readonly HookScope[]): Promise<Hook[]>;
  /** Changes the given settings; a change of `active` clears `disabledReason`. Null when there is no such hook. */
  updateHook(id: number, changes: Partial<HookSettings>, now: number): Promise<Hook | null>;
  /** Switches a hook off, saying why. */
  disableHook(id: number, reason: string, now: number): Promise<void>;
  /**
   * Notes an attempt's result: a success clears the hook's failing time, a failure sets it if unset.
   * Returns since when the hook has been failing (null: it is not).
   */
  noteResult(id: number, succeeded: boolean, now: number): Promise<number | null>;
  /** Deletes the hook with its deliveries and their log; false when there was none. */
  deleteHook(id: number): Promise<boolean>;

  /**
   * Queues deliveries, due now; one whose hook and source are queued already is skipped. An event's deliveries
   * commit together, a batch's may commit in several transactions: one that fails part way is retried whole, and
   * the (hook, source) key queues the rest once.
   */
  enqueue(deliveries: readonly NewDelivery[], now: number): Promise<void>;
  /**
   * Leases up to `limit` due deliveries to `owner` until `now + leaseMs`: pending ones whose
   * time has come and whose lease (if any) has expired. A delivery leased to one owner is
   * not handed to another until its lease expires.
   */
  claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<Delivery[]>;
  /**
   * Logs an attempt and moves the delivery on, releasing the lease; false (and nothing
   * written) when `owner` no longer holds the lease.
   */
  finishAttempt(deliveryId: number, owner: string, attempt: NewAttempt, outcome: AttemptOutcome): Promise<boolean>;
  /**
   * Ends up to `limit` pending deliveries of a hook that is switched off, in one transaction: each failed, with an
   * attempt logged at `now` whose status is `status` (nothing was sent). Deliveries another process holds a live
   * lease on are left to it. Returns how many ended.
   */
  dropPending(hookId: number, status: string, now: number, limit: number): Promise<number>;
  delivery(id: number): Promise<Delivery | null>;
  /** A hook's logged attempts, newest first, with ids below `before` when given. */
  attempts(hookId: number, limit: number, before?: number): Promise<DeliveryAttempt[]>;
  attempt(hookId: number, attemptId: number): Promise<DeliveryAttempt | null>;
  /** Queues the logged attempt's delivery again, due now, as a redelivery; false when no such attempt. */
  redeliver(hookId: number, attemptId: number, now: number): Promise<boolean>;
  /** Deletes up to `limit` logged attempts made before `before`, and finished deliveries created before it. */
  pruneLog(before: number, limit: number): Promise<number>;
}
