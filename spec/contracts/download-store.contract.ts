import type { DownloadStore } from '../../src/downloads/download-store';

export interface DownloadStoreHarness {
  /** A fresh, empty store. */
  create(): Promise<DownloadStore>;
  /** Another store on the same database, as a second process (worker, replica) has. */
  another(store: DownloadStore): Promise<DownloadStore>;
  destroy(store: DownloadStore): Promise<void>;
}

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;

/** The DownloadStore contract: every implementation (SQL on SQLite and PostgreSQL) runs exactly this suite. */
export function downloadStoreContract(name: string, harness: DownloadStoreHarness): void {
  describe(`DownloadStore contract: ${name}`, () => {
    let store: DownloadStore;
    beforeEach(async () => {
      store = await harness.create();
    });
    afterEach(() => harness.destroy(store));

    it('knows no downloads of what was never counted', async () => {
      expect(await store.packageTotal('me/app')).toBe(0);
      expect(await store.versionTotals('me/app')).toEqual(new Map());
      expect(await store.versionTotals('me/app', [A])).toEqual(new Map());
      expect(await store.daily('me/app', 0, 100_000)).toEqual([]);
    });

    it('adds each batch to what is stored, per day and in the totals', async () => {
      await store.add([
        { repository: 'me/app', digest: A, day: 100, count: 3 },
        { repository: 'me/app', digest: B, day: 100, count: 1 },
        { repository: 'me/app', digest: A, day: 101, count: 2 },
      ]);
      await store.add([{ repository: 'me/app', digest: A, day: 101, count: 5 }]);
      expect(await store.versionTotals('me/app')).toEqual(
        new Map([
          [A, 10],
          [B, 1],
        ]),
      );
      expect(await store.versionTotals('me/app', [B, `sha256:${'c'.repeat(64)}`])).toEqual(new Map([[B, 1]]));
      expect(await store.packageTotal('me/app')).toBe(11);
      expect(await store.daily('me/app', 100, 101)).toEqual([
        { day: 100, count: 4 },
        { day: 101, count: 7 },
      ]);
      expect(await store.daily('me/app', 101, 200, A)).toEqual([{ day: 101, count: 7 }]);
      expect(await store.daily('me/app', 0, 99)).toEqual([]);
    });

    it('keeps repositories apart', async () => {
      await store.add([
        { repository: 'me/app', digest: A, day: 100, count: 1 },
        { repository: 'me/other', digest: A, day: 100, count: 2 },
      ]);
      expect(await store.packageTotal('me/app')).toBe(1);
      expect(await store.packageTotal('me/other')).toBe(2);
      expect(await store.daily('me/other', 100, 100)).toEqual([{ day: 100, count: 2 }]);
    });

    it('takes a batch larger than one statement', async () => {
      const batch = Array.from({ length: 450 }, (_, i) => ({ repository: 'me/app', digest: A, day: i, count: 1 }));
      await store.add(batch);
      expect(await store.packageTotal('me/app')).toBe(450);
      expect((await store.daily('me/app', 0, 1000)).length).toBe(450);
    });

    it('sums what concurrent writers add, and what a second connection adds', async () => {
      const batch = [
        { repository: 'me/app', digest: A, day: 100, count: 1 },
        { repository: 'me/app', digest: B, day: 100, count: 2 },
      ];
      // Concurrent on one store (several pooled connections on PostgreSQL); the second
      // connection after, as SQLite connections in one process cannot wait on each other.
      await Promise.all(Array.from({ length: 10 }, () => store.add(batch)));
      const other = await harness.another(store);
      await Promise.all(Array.from({ length: 10 }, () => other.add(batch)));
      expect(await store.versionTotals('me/app')).toEqual(
        new Map([
          [A, 20],
          [B, 40],
        ]),
      );
      expect(await other.daily('me/app', 100, 100)).toEqual([{ day: 100, count: 60 }]);
    });

    it('prunes daily rows older than a day in batches, keeping the totals', async () => {
      await store.add([
        { repository: 'me/app', digest: A, day: 10, count: 1 },
        { repository: 'me/app', digest: B, day: 11, count: 1 },
        { repository: 'me/app', digest: A, day: 12, count: 1 },
        { repository: 'me/app', digest: A, day: 13, count: 1 },
      ]);
      expect(await store.pruneDaily(13, 2)).toBe(2);
      expect(await store.pruneDaily(13, 2)).toBe(1);
      expect(await store.pruneDaily(13, 2)).toBe(0);
      expect(await store.daily('me/app', 0, 100)).toEqual([{ day: 13, count: 1 }]);
      expect(await store.packageTotal('me/app')).toBe(4);
    });
  });
}
