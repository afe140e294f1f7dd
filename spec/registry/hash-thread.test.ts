import { createHash, randomBytes } from 'node:crypto';
import { HashThread } from '../../src/registry/hash-thread';

/** The thread hashes copies in 64 KiB pieces whose buffers come back with the acks and are filled again. */
describe('HashThread pieces', () => {
  const thread = new HashThread();
  afterAll(() => thread.close());

  it("splits updates of any size into pieces and still gives Node's digest", async () => {
    const id = (await thread.open('native'))!;
    const sizes = [1, 65_535, 65_536, 65_537, 1024 * 1024 + 7, 100, 300_000];
    const all = createHash('sha256');
    for (const size of sizes) {
      const data = randomBytes(size);
      all.update(data);
      thread.update(id, data);
    }
    expect((await thread.snapshot(id)).hex).toBe(all.digest('hex'));
    thread.dispose(id);
  });

  it('reuses piece buffers: 64 MiB hashed through a queue of at most 1 MiB allocates a few dozen, not 1024', async () => {
    const id = (await thread.open('native'))!;
    const before = thread.allocatedPieces;
    const block = randomBytes(64 * 1024);
    const all = createHash('sha256');
    for (let i = 0; i < 1024; i++) {
      all.update(block);
      if (thread.update(id, block) > 1024 * 1024) await thread.drained(id, 512 * 1024);
    }
    expect((await thread.snapshot(id)).hex).toBe(all.digest('hex'));
    expect(thread.allocatedPieces - before).toBeLessThanOrEqual(40);
    thread.dispose(id);
  });
});
