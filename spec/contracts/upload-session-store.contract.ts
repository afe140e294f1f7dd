import { randomUUID } from 'node:crypto';
import type { UploadSession, UploadSessionStore } from '../../src/sessions/upload-session-store';

export interface UploadSessionStoreHarness {
  create(): Promise<UploadSessionStore>;
  destroy(store: UploadSessionStore): Promise<void>;
}

function session(overrides: Partial<UploadSession> = {}): UploadSession {
  const now = Date.now();
  return { id: randomUUID(), repository: 'team/app', offset: 0, startedAt: now, updatedAt: now, ...overrides };
}

/** The UploadSessionStore contract: every implementation (sql on SQLite and PostgreSQL, memory, redis) runs exactly this suite. */
export function uploadSessionStoreContract(kind: string, harness: UploadSessionStoreHarness): void {
  describe(`UploadSessionStore contract: ${kind}`, () => {
    let store: UploadSessionStore;
    beforeEach(async () => {
      store = await harness.create();
    });
    afterEach(async () => {
      await harness.destroy(store);
    });

    it('creates, reads, advances and deletes a session', async () => {
      const s = session();
      await store.create(s);
      expect(await store.get(s.id)).toEqual(s);
      expect(await store.setOffset(s.id, 1234, s.updatedAt + 10)).toBe(true);
      expect(await store.get(s.id)).toEqual({ ...s, offset: 1234, updatedAt: s.updatedAt + 10 });
      await store.delete(s.id);
      expect(await store.get(s.id)).toBeNull();
      expect(await store.setOffset(s.id, 1, 1)).toBe(false);
    });

    it('keeps the opaque hash state with its offset, and drops it when the offset moves without one', async () => {
      const s = session({ hashState: 'initial state' });
      await store.create(s);
      expect((await store.get(s.id))?.hashState).toBe('initial state');
      const state = `sha256 ${'ab'.repeat(80)} =+/ é`;
      expect(await store.setOffset(s.id, 4096, s.updatedAt + 1, state)).toBe(true);
      expect(await store.get(s.id)).toEqual({ ...s, offset: 4096, updatedAt: s.updatedAt + 1, hashState: state });
      expect((await store.listStale(s.updatedAt + 2, 10)).find((x) => x.id === s.id)?.hashState).toBe(state);
      expect(await store.setOffset(s.id, 5000, s.updatedAt + 3)).toBe(true);
      const moved = await store.get(s.id);
      expect(moved?.offset).toBe(5000);
      expect(moved).not.toHaveProperty('hashState');
    });

    it('keeps offsets beyond 4 GiB exactly', async () => {
      const s = session();
      await store.create(s);
      const big = 6 * 1024 ** 3 + 7;
      await store.setOffset(s.id, big, Date.now());
      expect((await store.get(s.id))?.offset).toBe(big);
    });

    it('refuses a second session with the same id', async () => {
      const s = session();
      await store.create(s);
      // Compared by outcome, not class: a native driver's errors come from another realm than jest's.
      const outcome = await store.create(s).then(
        () => 'created',
        () => 'refused',
      );
      expect(outcome).toBe('refused');
      expect(await store.get(s.id)).toEqual(s);
    });

    it('lists stale sessions oldest first, bounded by the limit', async () => {
      const now = Date.now();
      const old1 = session({ updatedAt: now - 50_000 });
      const old2 = session({ updatedAt: now - 40_000 });
      const fresh = session({ updatedAt: now });
      for (const s of [fresh, old2, old1]) await store.create(s);
      const stale = await store.listStale(now - 10_000, 10);
      expect(stale.map((s) => s.id)).toEqual([old1.id, old2.id]);
      expect((await store.listStale(now - 10_000, 1)).map((s) => s.id)).toEqual([old1.id]);
    });

    it('locks a session for one owner at a time, and the lock expires', async () => {
      const s = session();
      await store.create(s);
      expect(await store.tryLock(s.id, 'a', 60_000)).toBe(true);
      expect(await store.tryLock(s.id, 'b', 60_000)).toBe(false);
      expect(await store.tryLock(s.id, 'a', 60_000)).toBe(true); // refresh by the holder
      await store.unlock(s.id, 'b'); // not the holder: no effect
      expect(await store.tryLock(s.id, 'b', 60_000)).toBe(false);
      await store.unlock(s.id, 'a');
      expect(await store.tryLock(s.id, 'b', 50)).toBe(true);
      await new Promise((r) => setTimeout(r, 120));
      expect(await store.tryLock(s.id, 'c', 60_000)).toBe(true);
    });

    it('cannot lock a session that does not exist', async () => {
      expect(await store.tryLock(randomUUID(), 'a', 1000)).toBe(false);
    });
  });
}
