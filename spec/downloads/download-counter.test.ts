import { DownloadCounter } from '../../src/downloads/download-counter';
import type { DownloadIncrement, DownloadStore } from '../../src/downloads/download-store';
import { createLogger } from '../../src/log';
import { DatabaseUnavailableError } from '../../src/persistence/database-faults';

const DAY = 86_400_000;

/** A store that records every batch, and fails while `failing` is set. */
function fakeStore() {
  const batches: DownloadIncrement[][] = [];
  const fake = {
    failing: false,
    batches,
    totalAdded: () => batches.flat().reduce((n, i) => n + i.count, 0),
    async add(increments: readonly DownloadIncrement[]) {
      if (fake.failing) throw new Error('database unreachable');
      batches.push([...increments]);
    },
  };
  return fake;
}

function counterOver(store: ReturnType<typeof fakeStore>, now: () => number, maxPendingKeys = 1000) {
  return new DownloadCounter(store as unknown as DownloadStore, createLogger('silent'), { flushIntervalMs: 60_000, maxPendingKeys, now });
}

describe('DownloadCounter', () => {
  it('writes one increment per (repository, digest, day) per flush', async () => {
    const store = fakeStore();
    let now = 10 * DAY + 5;
    const counter = counterOver(store, () => now);
    for (let i = 0; i < 5; i++) counter.count('me/app', 'sha256:a');
    counter.count('me/app', 'sha256:b');
    now += DAY;
    counter.count('me/app', 'sha256:a');
    await counter.flush();
    expect(store.batches).toEqual([
      [
        { repository: 'me/app', digest: 'sha256:a', day: 10, count: 5 },
        { repository: 'me/app', digest: 'sha256:b', day: 10, count: 1 },
        { repository: 'me/app', digest: 'sha256:a', day: 11, count: 1 },
      ],
    ]);
    await counter.flush();
    expect(store.batches).toHaveLength(1);
  });

  it('keeps a failed batch and writes it with the next flush, counting nothing twice', async () => {
    const store = fakeStore();
    const counter = counterOver(store, () => DAY);
    counter.count('me/app', 'sha256:a');
    store.failing = true;
    await expect(counter.flush()).resolves.toBeUndefined();
    counter.count('me/app', 'sha256:a');
    expect(counter.pendingCount).toBe(2);
    store.failing = false;
    await counter.flush();
    expect(store.batches).toEqual([[{ repository: 'me/app', digest: 'sha256:a', day: 1, count: 2 }]]);
    expect(counter.pendingCount).toBe(0);
  });

  it('warns of a failed flush while the database is unavailable (it comes back), and reports any other failure as an error', async () => {
    const log = createLogger('silent');
    const warn = jest.spyOn(log, 'warn');
    const error = jest.spyOn(log, 'error');
    let failure: Error = new DatabaseUnavailableError(new Error('Connection terminated unexpectedly'));
    const store = { add: () => Promise.reject(failure) };
    const counter = new DownloadCounter(store as unknown as DownloadStore, log, {
      flushIntervalMs: 60_000,
      maxPendingKeys: 10,
      now: () => DAY,
    });
    counter.count('me/app', 'sha256:a');
    await counter.flush();
    expect([warn.mock.calls.length, error.mock.calls.length]).toEqual([1, 0]);
    failure = new Error('column "count" does not exist');
    await counter.flush();
    expect([warn.mock.calls.length, error.mock.calls.length]).toEqual([1, 1]);
  });

  it('holds at most maxPendingKeys keys while flushes fail, still counting keys it holds', async () => {
    const store = fakeStore();
    const counter = counterOver(store, () => DAY, 2);
    store.failing = true;
    counter.count('me/app', 'sha256:a');
    counter.count('me/app', 'sha256:b');
    counter.count('me/app', 'sha256:c');
    counter.count('me/app', 'sha256:a');
    await counter.flush();
    expect(counter.pendingCount).toBe(3);
    store.failing = false;
    await counter.flush();
    expect(store.totalAdded()).toBe(3);
  });

  it('runs one flush at a time, and close writes what is left', async () => {
    const store = fakeStore();
    const counter = counterOver(store, () => DAY);
    counter.count('me/app', 'sha256:a');
    const first = counter.flush();
    expect(counter.flush()).toBe(first);
    await first;
    counter.count('me/app', 'sha256:b');
    await counter.close();
    expect(store.totalAdded()).toBe(2);
  });
});
