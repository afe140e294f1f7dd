import { KeyedQueue } from '../../src/persistence/keyed-queue';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('KeyedQueue', () => {
  it('runs work naming a common key one after the other, in arrival order, and other keys at once', async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const job = (name: string, keys: string[], ticks: number) =>
      queue.run(keys, async () => {
        log.push(`${name} in`);
        for (let i = 0; i < ticks; i++) await tick();
        log.push(`${name} out`);
      });
    await Promise.all([job('a', ['x'], 3), job('b', ['y'], 1), job('c', ['x', 'y'], 0)]);
    expect(log).toEqual(['a in', 'b in', 'b out', 'a out', 'c in', 'c out']);
  });

  it('does not deadlock when callers name overlapping keys in opposite orders', async () => {
    const queue = new KeyedQueue();
    let done = 0;
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        queue.run(i % 2 === 0 ? ['p', 'q'] : ['q', 'p'], async () => {
          await tick();
          done++;
        }),
      ),
    );
    expect(done).toBe(50);
  });

  it('gives the key back when the work throws, and keeps no entry once idle', async () => {
    const queue = new KeyedQueue();
    await expect(queue.run(['k'], () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(queue.run(['k'], () => Promise.resolve('next'))).resolves.toBe('next');
    expect((queue as unknown as { tails: Map<string, unknown> }).tails.size).toBe(0);
  });
});
