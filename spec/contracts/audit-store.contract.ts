import type { AuditStore, NewAuditRecord } from '../../src/audit/audit-store';

export interface AuditStoreHarness {
  /** A fresh, empty store. */
  create(): Promise<AuditStore>;
  destroy(store: AuditStore): Promise<void>;
}

function entry(overrides: Partial<NewAuditRecord> = {}): NewAuditRecord {
  return {
    at: 1_000,
    action: 'manifest.push',
    actor: { kind: 'user', userId: 1, name: 'alice', credential: 'pat', tokenId: 7 },
    clientAddress: '10.0.0.1',
    requestId: 'req-1',
    ownerId: 10,
    ownerName: 'acme',
    package: 'acme/app',
    repository: null,
    details: { tag: 'v1', scopes: ['read:packages'], n: 3, ok: true, none: null },
    ...overrides,
  };
}

/** The AuditStore contract: every implementation (SQL on SQLite and PostgreSQL) runs exactly this suite. */
export function auditStoreContract(name: string, harness: AuditStoreHarness): void {
  describe(`AuditStore contract: ${name}`, () => {
    let store: AuditStore;
    beforeEach(async () => {
      store = await harness.create();
    });
    afterEach(() => harness.destroy(store));

    it('returns what was appended, every field as given', async () => {
      await store.append(entry());
      const [found, ...rest] = await store.query({ scope: { ownerId: 10 }, limit: 10 });
      expect(rest).toEqual([]);
      expect(found).toEqual({ id: expect.any(Number), ...entry() });
    });

    it('lists newest first, paged by id', async () => {
      for (let i = 0; i < 5; i++) await store.append(entry({ at: 1_000 + i, requestId: `req-${i}` }));
      const first = await store.query({ scope: { ownerId: 10 }, limit: 2 });
      expect(first.map((e) => e.requestId)).toEqual(['req-4', 'req-3']);
      const second = await store.query({ scope: { ownerId: 10 }, limit: 2, beforeId: first[1]!.id });
      expect(second.map((e) => e.requestId)).toEqual(['req-2', 'req-1']);
      const last = await store.query({ scope: { ownerId: 10 }, limit: 2, beforeId: second[1]!.id });
      expect(last.map((e) => e.requestId)).toEqual(['req-0']);
    });

    it("scopes an owner's log to its entries, and a user's to what they own or did", async () => {
      await store.append(entry({ requestId: 'acme by alice' }));
      await store.append(
        entry({ requestId: 'bob by bob', ownerId: 2, ownerName: 'bob', actor: { ...entry().actor, userId: 2, name: 'bob' } }),
      );
      await store.append(
        entry({ requestId: 'alice by admin', ownerId: 1, ownerName: 'alice', actor: { ...entry().actor, userId: 99, name: 'admin' } }),
      );
      const ids = async (scope: { ownerId: number } | { userId: number }) =>
        (await store.query({ scope, limit: 10 })).map((e) => e.requestId);
      expect(await ids({ ownerId: 10 })).toEqual(['acme by alice']);
      expect(await ids({ userId: 1 })).toEqual(['alice by admin', 'acme by alice']);
      expect(await ids({ userId: 2 })).toEqual(['bob by bob']);
      expect(await ids({ ownerId: 3 })).toEqual([]);
    });

    it('filters by action, actor name and time (both bounds exclusive)', async () => {
      await store.append(entry({ at: 1_000, action: 'manifest.push', requestId: 'a' }));
      await store.append(entry({ at: 2_000, action: 'tag.move', requestId: 'b' }));
      await store.append(entry({ at: 3_000, action: 'manifest.push', requestId: 'c', actor: { ...entry().actor, name: 'carol' } }));
      const ids = async (q: object) => (await store.query({ scope: { ownerId: 10 }, limit: 10, ...q })).map((e) => e.requestId);
      expect(await ids({ action: 'manifest.push' })).toEqual(['c', 'a']);
      expect(await ids({ actorName: 'carol' })).toEqual(['c']);
      expect(await ids({ after: 1_000 })).toEqual(['c', 'b']);
      expect(await ids({ before: 3_000 })).toEqual(['b', 'a']);
      expect(await ids({ after: 1_000, before: 3_000, action: 'tag.move' })).toEqual(['b']);
    });

    it('prunes entries recorded before a time, in batches', async () => {
      for (let i = 0; i < 5; i++) await store.append(entry({ at: i * 1_000, requestId: `req-${i}` }));
      expect(await store.pruneBefore(3_000, 2)).toBe(2);
      expect(await store.pruneBefore(3_000, 2)).toBe(1);
      expect(await store.pruneBefore(3_000, 2)).toBe(0);
      expect((await store.query({ scope: { ownerId: 10 }, limit: 10 })).map((e) => e.requestId)).toEqual(['req-4', 'req-3']);
    });
  });
}
