import { randomUUID } from 'node:crypto';
import type { Logger } from '../log';
import { type AddressGuard, UrlRefused } from '../outbound/address-guard';
import type { AttemptOutcome, Delivery, Hook, HookStore, NewAttempt } from './hook-store';
import { BODY_LIMIT, HookConnections, postToHook, signature1, signature256, type HookResponse } from './hook-request';
import { SerialRunner } from './serial-runner';

export interface DeliveryWorkerOptions {
  /** How often the outbox is polled for due deliveries. */
  pollIntervalMs: number;
  /** A delivery's request gives up after this long (GitHub: 10 s). */
  timeoutMs: number;
  /** Waits before the 2nd, 3rd… attempt; after the last, the delivery has failed. */
  backoffMs: readonly number[];
  /** Deliveries leased per poll. */
  batchSize: number;
  /**
   * Attempts in flight at once in this process (32 unless set). Slots refill as attempts end, so one slow
   * receiver holds only its own slots: with a batch sent in lockstep, three hooks at a receiver taking 2 s
   * got 42–115 deliveries out in the 5–12 s a 1,000-tag push took (make bench, berth-hooks).
   */
  concurrency?: number;
  /** A hook whose deliveries have failed this long without a success is switched off (3 days). */
  disableAfterFailingMs?: number;
  /** `User-Agent: Berth-Hookshot/<version>`. */
  version: string;
  now?: () => number;
}

/** 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 24 h: eight attempts over about 41 hours. */
export const DEFAULT_BACKOFF_MS: readonly number[] = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 86_400_000];

/** GitHub-like patience: a hook failing for 3 days without one success is switched off. */
const FAILING_DISABLE_MS = 3 * 86_400_000;

const DEFAULT_CONCURRENCY = 32;

/** What the log says of a delivery to a hook that is switched off (nothing was sent). */
const INACTIVE = 'the hook is inactive';

/** Deliveries of a switched-off hook ended per transaction: short enough that pushes waiting for the lock hardly notice. */
const DROP_BATCH = 200;

/** A Retry-After is honoured up to a day. */
const MAX_RETRY_AFTER_MS = 86_400_000;

/**
 * Sends the webhook outbox: leases due deliveries (so that one attempt per delivery runs at a time
 * across workers and replicas), POSTs each signed to its hook's URL (checked again by the SSRF
 * guard: DNS can change), logs the attempt and schedules the next on failure. A 410 disables the
 * hook. Runs in the background; nothing on the push path waits for it.
 */
export class DeliveryWorker {
  private readonly owner = `worker-${randomUUID()}`;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Attempts in flight, awaited by close(). */
  private readonly inFlight = new Set<Promise<void>>();
  /** The drop of each inactive hook's queue in progress, shared by the attempts that found it inactive. */
  private readonly drops = new Map<number, Promise<void>>();
  /** Connections to receivers, kept open between attempts. */
  private readonly connections = new HookConnections();
  private readonly runner = new SerialRunner(
    () => this.drain(),
    (err) => this.log.warn({ err }, 'webhook delivery poll failed'),
  );

  constructor(
    private readonly store: HookStore,
    private readonly guard: AddressGuard,
    private readonly log: Logger,
    private readonly options: DeliveryWorkerOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.kick(), this.options.pollIntervalMs);
    // The timer alone must not keep a process alive.
    this.timer.unref();
    this.kick();
  }

  /** Polls now (after an enqueue in this process), or right after the poll in progress. */
  kick(): void {
    this.runner.request();
  }

  /** Stops polling and waits for the attempts in flight (each bounded by the timeout) to be logged. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.runner.close();
    await Promise.all(this.inFlight);
    this.connections.destroy();
  }

  /**
   * Leases due deliveries into the free slots and starts them; each attempt that ends frees its slot and
   * asks for another pass.
   */
  private async drain(): Promise<void> {
    const slots = this.options.concurrency ?? DEFAULT_CONCURRENCY;
    for (;;) {
      const free = slots - this.inFlight.size;
      if (this.closed || free <= 0) return;
      // The lease outlives the request with room for logging it; a worker killed mid-attempt
      // frees its deliveries when the lease expires.
      const lease = this.options.timeoutMs + 30_000;
      const due = await this.store.claimDue(this.owner, this.now(), lease, Math.min(free, this.options.batchSize));
      if (due.length === 0) return;
      for (const delivery of due) {
        const attempt: Promise<void> = this.attempt(delivery)
          .catch((err: unknown) => this.log.warn({ err, delivery: delivery.guid }, 'webhook delivery attempt failed'))
          .finally(() => {
            this.inFlight.delete(attempt);
            this.kick();
          });
        this.inFlight.add(attempt);
      }
    }
  }

  /**
   * Ends an inactive hook's pending deliveries in batches. Every attempt that finds the hook inactive waits for the
   * one drop in progress and keeps its slot until it ends, so the worker claims no more of that queue meanwhile: with
   * a drop each and slots refilled as they ended, a CI run on PostgreSQL claimed 30 of a 450 queue one by one.
   */
  private dropQueue(hookId: number): Promise<void> {
    let drop = this.drops.get(hookId);
    if (!drop) {
      drop = (async () => {
        let dropped = DROP_BATCH;
        while (dropped === DROP_BATCH && !this.closed) dropped = await this.store.dropPending(hookId, INACTIVE, this.now(), DROP_BATCH);
      })().finally(() => this.drops.delete(hookId));
      this.drops.set(hookId, drop);
    }
    return drop;
  }

  private async attempt(delivery: Delivery): Promise<void> {
    const hook = await this.store.hook(delivery.hookId);
    const number = delivery.attempts + 1;
    const startedAt = this.now();
    if (!hook || !hook.active) {
      // An inactive hook is sent nothing; its deliveries end here, and the rest of its queue with this one: ended one
      // claim and one transaction each, a backlog of 20k (three hooks switched off after 8 s of pushes at a slow
      // receiver) kept SQLite's write lock busy for seconds, and the pushes of that time waited for it.
      await this.finish(delivery, this.record(number, startedAt, 0, {}, '', noResponse(INACTIVE)), { state: 'failed' });
      if (hook) await this.dropQueue(hook.id);
      return;
    }
    const { headers, text, body } = this.request(hook, delivery);
    let response: HookResponse;
    try {
      const target = await this.guard.check(hook.url);
      response = await postToHook(target, headers, body, this.options.timeoutMs, this.connections);
    } catch (err) {
      if (!(err instanceof UrlRefused)) throw err;
      response = noResponse(err.message);
    }
    const attempt = this.record(number, startedAt, this.now() - startedAt, headers, text, response);
    if (response.statusCode === 410) {
      await this.store.disableHook(hook.id, `the receiver answered 410 Gone at ${new Date(startedAt).toISOString()}`, this.now());
      await this.finish(delivery, attempt, { state: 'failed' });
      return;
    }
    const outcome = this.outcome(number, response);
    await this.finish(delivery, attempt, outcome);
    const failingSince = await this.store.noteResult(hook.id, outcome.state === 'delivered', this.now());
    const limit = this.options.disableAfterFailingMs ?? FAILING_DISABLE_MS;
    if (failingSince !== null && this.now() - failingSince >= limit) {
      const since = new Date(failingSince).toISOString();
      await this.store.disableHook(
        hook.id,
        `every delivery has failed since ${since}: switched off after ${Math.round(limit / 3_600_000)} h`,
        this.now(),
      );
    }
  }

  private outcome(number: number, response: HookResponse): AttemptOutcome {
    if (response.statusCode >= 200 && response.statusCode < 300) return { state: 'delivered' };
    const wait = this.options.backoffMs[number - 1];
    if (wait === undefined) return { state: 'failed' };
    const asked = response.retryAfterSeconds === undefined ? 0 : Math.min(response.retryAfterSeconds * 1000, MAX_RETRY_AFTER_MS);
    return { state: 'pending', nextAttemptAt: this.now() + Math.max(wait, asked) };
  }

  private async finish(delivery: Delivery, attempt: NewAttempt, outcome: AttemptOutcome): Promise<void> {
    if (!(await this.store.finishAttempt(delivery.id, this.owner, attempt, outcome))) {
      this.log.warn({ delivery: delivery.guid }, 'a webhook delivery outlived its lease; another worker took it over');
    }
  }

  /** GitHub's headers; the body signed as sent (form: `payload=<url-encoded JSON>`). */
  private request(hook: Hook, delivery: Delivery): { headers: Record<string, string>; text: string; body: Buffer } {
    const form = hook.contentType === 'form';
    const text = form ? `payload=${encodeURIComponent(delivery.payload)}` : delivery.payload;
    const body = Buffer.from(text);
    const headers: Record<string, string> = {
      'Content-Type': form ? 'application/x-www-form-urlencoded' : 'application/json',
      'User-Agent': `Berth-Hookshot/${this.options.version}`,
      'X-GitHub-Event': delivery.event,
      'X-GitHub-Delivery': delivery.guid,
      'X-GitHub-Hook-ID': String(hook.id),
      'X-GitHub-Hook-Installation-Target-Type':
        hook.scope.kind === 'org' ? 'organization' : hook.scope.kind === 'repository' ? 'repository' : 'instance',
    };
    if (hook.secret !== null) {
      headers['X-Hub-Signature'] = signature1(body, hook.secret);
      headers['X-Hub-Signature-256'] = signature256(body, hook.secret);
    }
    return { headers, text, body };
  }

  private record(
    number: number,
    at: number,
    durationMs: number,
    headers: Record<string, string>,
    body: string,
    response: HookResponse,
  ): NewAttempt {
    return {
      attempt: number,
      at,
      durationMs,
      statusCode: response.statusCode,
      status: response.status,
      requestHeaders: headers,
      requestBody: body.slice(0, BODY_LIMIT),
      responseHeaders: response.headers,
      responseBody: response.body,
    };
  }
}

function noResponse(status: string): HookResponse {
  return { statusCode: 0, status, headers: {}, body: '' };
}
