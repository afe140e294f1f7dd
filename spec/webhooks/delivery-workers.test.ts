import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../src/log';
import { migrate } from '../../src/persistence/migration-runner';
import { AddressGuard } from '../../src/outbound/address-guard';
import { DeliveryWorker, type DeliveryWorkerOptions } from '../../src/webhooks/delivery-worker';
import { SqlHookStore } from '../../src/webhooks/sql/sql-hook-store';
import { WEBHOOK_MIGRATIONS } from '../../src/webhooks/sql/webhook-migrations';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../persistence/support/test-databases';
import { HookReceiver, verifySignatures } from './support/hook-receiver';

/**
 * Three delivery workers, each on its own connection as three replicas would be, share one
 * outbox: every delivery reaches the receiver exactly once; a worker stopped mid-way leaves
 * the rest to the others (its queue is durable, not in memory).
 */
for (const dialect of DIALECTS) {
  describe(`delivery workers on ${dialect}`, () => {
    let t: TestDatabase;
    let dir: string | undefined;
    let receiver: HookReceiver;
    let url: string;
    beforeEach(async () => {
      dir = dialect === 'sqlite' ? mkdtempSync(path.join(os.tmpdir(), 'berth-workers-')) : undefined;
      t = await createTestDatabase(dialect, dir ? path.join(dir, 'berth.db') : undefined);
      if (dialect === 'sqlite') await t.db.exec('PRAGMA journal_mode = WAL');
      await migrate(t.db, [WEBHOOK_MIGRATIONS]);
      receiver = new HookReceiver();
      url = await receiver.start();
    });
    afterEach(async () => {
      await receiver.close();
      await t.dispose();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const worker = async (db: TestDatabase['db'], options: Partial<DeliveryWorkerOptions> = {}, store = new SqlHookStore(db)) =>
      new DeliveryWorker(store, new AddressGuard('127.0.0.1'), createLogger('silent'), {
        pollIntervalMs: 20,
        timeoutMs: 5_000,
        backoffMs: [50, 50],
        batchSize: 5,
        version: '0.0.0-test',
        ...options,
      });

    /** A hook at the receiver with `count` package events queued for it. */
    async function hookWithQueue(store: SqlHookStore, count: number, prefix: string, contentType: 'json' | 'form' = 'json') {
      const hook = await store.createHook(
        { kind: 'instance' },
        { url, secret: null, contentType, events: ['package'], packageGlob: null, tagGlob: null, active: true },
        Date.now(),
      );
      await store.enqueue(
        Array.from({ length: count }, (_, i) => ({
          hookId: hook.id,
          source: `${prefix}:${i}`,
          guid: `${prefix}-${i}`,
          event: 'package',
          action: 'published',
          payload: '{}',
        })),
        Date.now(),
      );
      return hook;
    }

    it('sends 100 queued events to two hooks exactly once each, across three workers', async () => {
      const store = new SqlHookStore(t.db);
      const settings = {
        url,
        secret: 'three',
        contentType: 'json' as const,
        events: ['package'],
        packageGlob: null,
        tagGlob: null,
        active: true,
      };
      const hooks = [
        await store.createHook({ kind: 'instance' }, settings, Date.now()),
        await store.createHook({ kind: 'instance' }, settings, Date.now()),
      ];
      await store.enqueue(
        hooks.flatMap((h) =>
          Array.from({ length: 100 }, (_, i) => ({
            hookId: h.id,
            source: `metadata:${i}`,
            guid: `${h.id}-${i}`,
            event: 'package',
            action: 'published',
            payload: JSON.stringify({ i }),
          })),
        ),
        Date.now(),
      );
      // SQLite is one file: a second connection in this process would block on its lock, so the
      // three workers share the connection there (they still race through the event loop).
      const dbs = dialect === 'sqlite' ? [t.db, t.db, t.db] : [t.db, await t.another(), await t.another()];
      const workers = await Promise.all(dbs.map((db) => worker(db)));
      for (const w of workers) w.start();
      await receiver.waitFor(200, 20_000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await Promise.all(workers.map((w) => w.close()));
      const guids = receiver.received.map((r) => r.headers['x-github-delivery']);
      expect(guids).toHaveLength(200);
      expect(new Set(guids).size).toBe(200);
      expect((await verifySignatures('three', receiver.received)).every(Boolean)).toBe(true);
      for (const h of hooks) expect(await store.attempts(h.id, 200)).toHaveLength(100);
    }, 40_000);

    it('keeps its slots full at a slow receiver: attempts refill as others end, not a batch in lockstep', async () => {
      const store = new SqlHookStore(t.db);
      await hookWithQueue(store, 40, 'slow');
      receiver.delayMs = 300;
      // Leased 5 at a time (batchSize), yet 16 in flight: a lockstep batch would never have more than 5 open.
      const w = await worker(t.db, { concurrency: 16 });
      w.start();
      await receiver.waitFor(40, 20_000);
      await w.close();
      expect(receiver.maxOpen).toBe(16);
      expect(new Set(receiver.received.map((r) => r.headers['x-github-delivery'])).size).toBe(40);
    }, 30_000);

    it('leaves what a closed worker had not sent to the next one', async () => {
      const store = new SqlHookStore(t.db);
      const hook = await store.createHook(
        { kind: 'instance' },
        { url, secret: null, contentType: 'form', events: ['package'], packageGlob: null, tagGlob: null, active: true },
        Date.now(),
      );
      await store.enqueue(
        Array.from({ length: 30 }, (_, i) => ({
          hookId: hook.id,
          source: `s:${i}`,
          guid: `g-${i}`,
          event: 'package',
          action: 'published',
          payload: '{"a":1}',
        })),
        Date.now(),
      );
      const first = await worker(t.db);
      // Closed while its first batch (5) is in flight: it finishes that batch and takes no more.
      first.start();
      await first.close();
      const sentByFirst = receiver.received.length;
      const second = await worker(t.db);
      second.start();
      await receiver.waitFor(30);
      await second.close();
      expect(sentByFirst).toBe(5);
      expect(new Set(receiver.received.map((r) => r.headers['x-github-delivery'])).size).toBe(30);
      expect(receiver.received).toHaveLength(30);
      expect(receiver.received[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(receiver.received[0]!.body).toBe(`payload=${encodeURIComponent('{"a":1}')}`);
      expect(receiver.received[0]!.headers['x-hub-signature-256']).toBeUndefined();
    }, 30_000);

    it("ends a switched-off hook's queue of 450 in a few transactions, sending nothing, every one logged", async () => {
      /** Counts the deliveries handed out one claim at a time. */
      class CountingStore extends SqlHookStore {
        claimed = 0;
        override async claimDue(owner: string, now: number, leaseMs: number, limit: number) {
          const due = await super.claimDue(owner, now, leaseMs, limit);
          this.claimed += due.length;
          return due;
        }
      }
      const store = new CountingStore(t.db);
      const hook = await hookWithQueue(store, 450, 'off');
      await store.updateHook(hook.id, { active: false }, Date.now());
      const w = await worker(t.db, { concurrency: 8 }, store);
      w.start();
      const deadline = Date.now() + 10_000;
      const ended = async () => (await store.attempts(hook.id, 500)).length;
      while ((await ended()) < 450) {
        if (Date.now() > deadline) throw new Error(`only ${await ended()} of 450 deliveries ended`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await w.close();
      expect(receiver.received).toHaveLength(0);
      const logged = await store.attempts(hook.id, 500);
      expect(new Set(logged.map((a) => a.deliveryId)).size).toBe(450);
      expect(logged.every((a) => a.status === 'the hook is inactive')).toBe(true);
      // One claim and one transaction each would have claimed all 450; the attempts that find the hook inactive wait
      // for one drop and hold their slots, so no more than the worker's slots are claimed.
      expect(store.claimed).toBeLessThanOrEqual(8);
    }, 20_000);

    it('switches off a hook whose deliveries kept failing for the allowed time, saying why', async () => {
      const store = new SqlHookStore(t.db);
      const hook = await store.createHook(
        { kind: 'instance' },
        { url, secret: null, contentType: 'json', events: ['package'], packageGlob: null, tagGlob: null, active: true },
        Date.now(),
      );
      receiver.answerWith(...Array.from({ length: 20 }, () => 500));
      await store.enqueue(
        [{ hookId: hook.id, source: null, guid: 'failing', event: 'package', action: 'published', payload: '{}' }],
        Date.now(),
      );
      const w = await worker(t.db, { backoffMs: Array.from({ length: 20 }, () => 40), disableAfterFailingMs: 100 });
      w.start();
      const deadline = Date.now() + 10_000;
      while ((await store.hook(hook.id))?.active !== false) {
        if (Date.now() > deadline) throw new Error('the failing hook stayed on');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await w.close();
      expect((await store.hook(hook.id))?.disabledReason).toMatch(/every delivery has failed since/);
      // Switched off before the retries ran out; what is left is not sent.
      const sent = receiver.received.length;
      expect(sent).toBeGreaterThanOrEqual(2);
      expect(sent).toBeLessThan(20);
    }, 20_000);
  });
}
