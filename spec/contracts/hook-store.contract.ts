import type { HookSettings, HookStore, NewAttempt } from '../../src/webhooks/hook-store';

export interface HookStoreHarness {
  /** A fresh, empty store. */
  create(): Promise<HookStore>;
  /** Another store on the same database, as a second process (worker, replica) has. */
  another(store: HookStore): Promise<HookStore>;
  destroy(store: HookStore): Promise<void>;
}

const SETTINGS: HookSettings = {
  url: 'https://hooks.example.com/berth',
  secret: 's3cret',
  contentType: 'json',
  events: ['package'],
  packageGlob: null,
  tagGlob: null,
  active: true,
};

function attempt(n: number, at: number, statusCode = 200): NewAttempt {
  return {
    attempt: n,
    at,
    durationMs: 12,
    statusCode,
    status: statusCode === 200 ? 'OK' : 'Internal Server Error',
    requestHeaders: { 'x-github-event': 'package' },
    requestBody: '{"action":"published"}',
    responseHeaders: { 'content-type': 'text/plain' },
    responseBody: 'ok',
  };
}

/** The HookStore contract: every implementation (SQL on SQLite and PostgreSQL) runs exactly this suite. */
export function hookStoreContract(name: string, harness: HookStoreHarness): void {
  describe(`HookStore contract: ${name}`, () => {
    let store: HookStore;
    beforeEach(async () => {
      store = await harness.create();
    });
    afterEach(() => harness.destroy(store));

    it('keeps hooks per scope with their settings', async () => {
      const org = await store.createHook({ kind: 'org', accountId: 7 }, SETTINGS, 1000);
      const repo = await store.createHook({ kind: 'repository', repositoryId: 7 }, { ...SETTINGS, events: ['*'], tagGlob: 'v*' }, 1001);
      const instance = await store.createHook({ kind: 'instance' }, { ...SETTINGS, secret: null, contentType: 'form' }, 1002);
      expect(org).toMatchObject({ ...SETTINGS, scope: { kind: 'org', accountId: 7 }, createdAt: 1000, disabledReason: null });
      expect(await store.hook(repo.id)).toEqual(repo);
      expect(repo).toMatchObject({ events: ['*'], tagGlob: 'v*', scope: { kind: 'repository', repositoryId: 7 } });
      expect(instance).toMatchObject({ secret: null, contentType: 'form', scope: { kind: 'instance' } });
      expect((await store.hooksOf({ kind: 'org', accountId: 7 })).map((h) => h.id)).toEqual([org.id]);
      expect(await store.hooksOf({ kind: 'org', accountId: 8 })).toEqual([]);
      expect((await store.activeHooks([{ kind: 'org', accountId: 7 }, { kind: 'instance' }])).map((h) => h.id)).toEqual([
        org.id,
        instance.id,
      ]);
      expect(await store.hook(999_999)).toBeNull();
    });

    it('gives the relay lease to one owner at a time, renewed by its holder, taken over once it expires', async () => {
      expect(await store.holdRelayLease('a', 1000, 5000)).toBe(true);
      expect(await store.holdRelayLease('b', 2000, 5000)).toBe(false);
      expect(await store.holdRelayLease('a', 5500, 5000)).toBe(true); // renewed until 10500
      expect(await store.holdRelayLease('b', 10_000, 5000)).toBe(false);
      expect(await store.holdRelayLease('b', 10_501, 5000)).toBe(true);
      expect(await store.holdRelayLease('a', 11_000, 5000)).toBe(false);
    });

    it('updates settings, and a hook Berth disabled stays off until switched on, which clears the reason', async () => {
      expect(await store.anyActive()).toBe(false);
      const hook = await store.createHook({ kind: 'instance' }, SETTINGS, 1000);
      expect(await store.anyActive()).toBe(true);
      const updated = await store.updateHook(hook.id, { url: 'https://other.example.com/', events: ['package', 'ping'] }, 2000);
      expect(updated).toMatchObject({ url: 'https://other.example.com/', events: ['package', 'ping'], secret: 's3cret', updatedAt: 2000 });
      await store.disableHook(hook.id, 'the receiver answered 410 Gone', 3000);
      expect(await store.hook(hook.id)).toMatchObject({ active: false, disabledReason: 'the receiver answered 410 Gone' });
      expect(await store.activeHooks([{ kind: 'instance' }])).toEqual([]);
      expect(await store.anyActive()).toBe(false);
      expect(await store.updateHook(hook.id, { contentType: 'form' }, 3500)).toMatchObject({
        active: false,
        disabledReason: expect.any(String),
      });
      expect(await store.updateHook(hook.id, { active: true }, 4000)).toMatchObject({ active: true, disabledReason: null });
      expect(await store.updateHook(999_999, { active: true }, 4000)).toBeNull();
    });

    it('remembers since when a hook has been failing, until a success', async () => {
      const hook = await store.createHook({ kind: 'instance' }, SETTINGS, 1000);
      expect(await store.noteResult(hook.id, true, 1500)).toBeNull();
      expect(await store.noteResult(hook.id, false, 2000)).toBe(2000);
      expect(await store.noteResult(hook.id, false, 3000)).toBe(2000);
      expect(await store.noteResult(hook.id, true, 4000)).toBeNull();
      expect(await store.noteResult(hook.id, false, 5000)).toBe(5000);
    });

    it('deletes a hook with its deliveries and log', async () => {
      const hook = await store.createHook({ kind: 'instance' }, SETTINGS, 1000);
      await store.enqueue([{ hookId: hook.id, source: null, guid: 'g-1', event: 'ping', action: null, payload: '{}' }], 1000);
      const [claimed] = await store.claimDue('w1', 1000, 60_000, 10);
      expect(await store.finishAttempt(claimed!.id, 'w1', attempt(1, 1001), { state: 'delivered' })).toBe(true);
      expect(await store.deleteHook(hook.id)).toBe(true);
      expect(await store.deleteHook(hook.id)).toBe(false);
      // A receiver never sees a deleted hook's id on another.
      expect((await store.createHook({ kind: 'instance' }, SETTINGS, 2000)).id).toBeGreaterThan(hook.id);
      expect(await store.delivery(claimed!.id)).toBeNull();
      expect(await store.attempts(hook.id, 10)).toEqual([]);
    });

    it('leases a due delivery to one owner until the lease expires, and only the owner finishes it', async () => {
      const hook = await store.createHook({ kind: 'instance' }, SETTINGS, 1000);
      await store.enqueue(
        [{ hookId: hook.id, source: null, guid: 'g-1', event: 'package', action: 'published', payload: '{"a":1}' }],
        1000,
      );
      expect(await store.claimDue('w1', 999, 60_000, 10)).toEqual([]);
      const [d] = await store.claimDue('w1', 1000, 60_000, 10);
      expect(d).toMatchObject({
        hookId: hook.id,
        guid: 'g-1',
        event: 'package',
        action: 'published',
        payload: '{"a":1}',
        attempts: 0,
      });
      expect(await store.claimDue('w2', 2000, 60_000, 10)).toEqual([]);
      // The lease ran out (w1 died): w2 takes it over, and w1's late result is refused.
      const [again] = await store.claimDue('w2', 61_000, 60_000, 10);
      expect(again?.id).toBe(d!.id);
      expect(await store.finishAttempt(d!.id, 'w1', attempt(1, 61_500), { state: 'delivered' })).toBe(false);
      expect(await store.finishAttempt(d!.id, 'w2', attempt(1, 61_500, 500), { state: 'pending', nextAttemptAt: 70_000 })).toBe(true);
      expect(await store.delivery(d!.id)).toMatchObject({ state: 'pending', attempts: 1, nextAttemptAt: 70_000 });
      expect(await store.claimDue('w2', 69_999, 60_000, 10)).toEqual([]);
      const [third] = await store.claimDue('w3', 70_000, 60_000, 10);
      expect(third).toMatchObject({ id: d!.id, attempts: 1, guid: 'g-1' });
      expect(await store.finishAttempt(d!.id, 'w3', attempt(2, 70_100), { state: 'delivered' })).toBe(true);
      expect(await store.claimDue('w3', 10_000_000, 60_000, 10)).toEqual([]);
      const log = await store.attempts(hook.id, 10);
      expect(log.map((a) => [a.attempt, a.statusCode, a.guid])).toEqual([
        [2, 200, 'g-1'],
        [1, 500, 'g-1'],
      ]);
      expect(log[1]).toMatchObject({
        requestHeaders: { 'x-github-event': 'package' },
        responseBody: 'ok',
        durationMs: 12,
        redelivery: false,
      });
      expect(await store.attempt(hook.id, log[0]!.id)).toEqual(log[0]);
      expect(await store.attempt(hook.id + 1, log[0]!.id)).toBeNull();
      expect((await store.attempts(hook.id, 10, log[0]!.id)).map((a) => a.id)).toEqual([log[1]!.id]);
    });

    it('hands each due delivery to exactly one of two processes claiming at once', async () => {
      const other = await harness.another(store);
      const hook = await store.createHook({ kind: 'instance' }, SETTINGS, 1000);
      await store.enqueue(
        Array.from({ length: 40 }, (_, i) => ({
          hookId: hook.id,
          source: null,
          guid: `g-${i}`,
          event: 'package',
          action: 'published',
          payload: '{}',
        })),
        1000,
      );
      // Rounds of eight claims at once until nothing is left: no delivery is handed out twice.
      const ids: number[] = [];
      for (let round = 0; round < 10 && ids.length < 40; round++) {
        const claims = await Promise.all(
          Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? store : other).claimDue(`w${round}-${i}`, 2000, 60_000, 10)),
        );
        for (const claim of claims) expect(claim.length).toBeLessThanOrEqual(10);
        ids.push(...claims.flat().map((d) => d.id));
      }
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(40);
    });

    it('queues one delivery per hook and source, however often the change is read', async () => {
      const a = await store.createHook({ kind: 'instance' }, SETTINGS, 1000);
      const b = await store.createHook({ kind: 'instance' }, SETTINGS, 1000);
      const change = (hookId: number, guid: string) => ({
        hookId,
        source: 'metadata:7',
        guid,
        event: 'package',
        action: 'published',
        payload: '{}',
      });
      await store.enqueue([change(a.id, 'g-a'), change(b.id, 'g-b')], 1000);
      await store.enqueue([change(a.id, 'g-a2'), change(b.id, 'g-b2')], 1001);
      await store.enqueue([{ ...change(a.id, 'g-other'), source: 'metadata:8' }], 1002);
      const due = await store.claimDue('w1', 2000, 60_000, 10);
      expect(due.map((d) => d.guid).sort()).toEqual(['g-a', 'g-b', 'g-other']);
    });

    it('redelivers a logged attempt under the same GUID, marked as a redelivery', async () => {
      const hook = await store.createHook({ kind: 'instance' }, SETTINGS, 1000);
      await store.enqueue([{ hookId: hook.id, source: null, guid: 'g-9', event: 'ping', action: null, payload: '{}' }], 1000);
      const [d] = await store.claimDue('w1', 1000, 60_000, 1);
      await store.finishAttempt(d!.id, 'w1', attempt(1, 1001), { state: 'delivered' });
      const [logged] = await store.attempts(hook.id, 1);
      expect(await store.redeliver(hook.id, logged!.id, 5000)).toBe(true);
      expect(await store.redeliver(hook.id + 1, logged!.id, 5000)).toBe(false);
      const [again] = await store.claimDue('w1', 5000, 60_000, 1);
      expect(again).toMatchObject({ id: d!.id, guid: 'g-9', redelivery: true, attempts: 1 });
      await store.finishAttempt(d!.id, 'w1', attempt(2, 5001), { state: 'delivered' });
      expect((await store.attempts(hook.id, 10)).map((a) => [a.redelivery, a.guid])).toEqual([
        [true, 'g-9'],
        [false, 'g-9'],
      ]);
    });

    it("ends a switched-off hook's pending deliveries in batches, each logged, leaving live leases and other hooks alone", async () => {
      const off = await store.createHook({ kind: 'instance' }, SETTINGS, 1000);
      const on = await store.createHook({ kind: 'instance' }, SETTINGS, 1000);
      const queued = (hookId: number, n: number) =>
        Array.from({ length: n }, (_, i) => ({
          hookId,
          source: `metadata:${i}`,
          guid: `${hookId}-${i}`,
          event: 'package',
          action: 'published',
          payload: '{}',
        }));
      await store.enqueue([...queued(off.id, 5), ...queued(on.id, 2)], 1000);
      // One of the switched-off hook's deliveries is leased to a worker sending it now.
      const [leased] = await store.claimDue('w1', 1000, 60_000, 1);
      expect(leased?.hookId).toBe(off.id);
      await store.updateHook(off.id, { active: false }, 2000);

      expect(await store.dropPending(off.id, 'the hook is inactive', 3000, 3)).toBe(3);
      expect(await store.dropPending(off.id, 'the hook is inactive', 3000, 3)).toBe(1);
      expect(await store.dropPending(off.id, 'the hook is inactive', 3000, 3)).toBe(0);
      const logged = await store.attempts(off.id, 10);
      expect(logged).toHaveLength(4);
      expect(logged.every((a) => a.status === 'the hook is inactive' && a.statusCode === 0 && a.attempt === 1 && a.at === 3000)).toBe(true);
      expect(logged.map((a) => a.guid)).not.toContain(leased!.guid);
      for (const a of logged) expect(await store.delivery(a.deliveryId)).toMatchObject({ state: 'failed', attempts: 1 });
      // The leased one is its worker's to finish; the other hook's are still due.
      expect(await store.delivery(leased!.id)).toMatchObject({ state: 'pending' });
      expect((await store.claimDue('w2', 3000, 60_000, 10)).map((d) => d.hookId)).toEqual([on.id, on.id]);
    });

    it('prunes the log and finished deliveries older than a time, in batches', async () => {
      const hook = await store.createHook({ kind: 'instance' }, SETTINGS, 1000);
      await store.enqueue([{ hookId: hook.id, source: null, guid: 'old', event: 'ping', action: null, payload: '{}' }], 1000);
      const [d] = await store.claimDue('w1', 1000, 60_000, 1);
      await store.finishAttempt(d!.id, 'w1', attempt(1, 1000, 500), { state: 'pending', nextAttemptAt: 1001 });
      const [d2] = await store.claimDue('w1', 1001, 60_000, 1);
      await store.finishAttempt(d2!.id, 'w1', attempt(2, 1001), { state: 'delivered' });
      await store.enqueue([{ hookId: hook.id, source: null, guid: 'new', event: 'ping', action: null, payload: '{}' }], 9000);
      expect(await store.pruneLog(5000, 1)).toBe(1);
      expect(await store.attempts(hook.id, 10)).toHaveLength(1);
      expect(await store.pruneLog(5000, 10)).toBe(2);
      expect(await store.attempts(hook.id, 10)).toEqual([]);
      expect(await store.delivery(d!.id)).toBeNull();
      expect(await store.claimDue('w1', 9000, 60_000, 10)).toEqual([expect.objectContaining({ guid: 'new' })]);
    });
  });
}
