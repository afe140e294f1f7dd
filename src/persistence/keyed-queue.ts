/**
 * In-process turns by key: work naming keys waits for earlier work naming any of them. Keys are taken in
 * sorted order, so two callers naming the same keys cannot each hold one and wait for the other.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    const releases: Array<() => void> = [];
    try {
      for (const key of [...new Set(keys)].sort()) releases.push(await this.turn(key));
      return await work();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  /** Waits for the key's earlier holders; resolves with the release of this turn. */
  private async turn(key: string): Promise<() => void> {
    const previous = this.tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous ? previous.then(() => mine) : mine;
    this.tails.set(key, tail);
    if (previous) await previous;
    return () => {
      release();
      // The last in line leaves nothing behind: the map holds only keys with work waiting or running.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}
