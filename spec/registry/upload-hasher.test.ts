import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { UploadHasherFactory, type UploadHasher } from '../../src/registry/upload-hasher';

/** The hashers run on a worker thread: same digests as Node's, state that moves between factories (processes). */
describe('UploadHasherFactory (hashing on a worker thread)', () => {
  const factories: UploadHasherFactory[] = [];
  const factory = (mode: 'process' | 'session') => {
    const f = new UploadHasherFactory(mode);
    factories.push(f);
    return f;
  };
  afterAll(async () => {
    await Promise.all(factories.map((f) => f.close()));
  });

  const data = randomBytes(20 * 1024 * 1024 + 333);
  const pieces = (from: number, to: number) => {
    const out: Buffer[] = [];
    for (let i = from; i < to; i += 64 * 1024) out.push(data.subarray(i, Math.min(i + 64 * 1024, to)));
    return out;
  };
  const feed = async (hash: UploadHasher, from: number, to: number) => {
    for (const p of pieces(from, to)) await hash.update(p);
  };
  const expected = (to: number) => createHash('sha256').update(data.subarray(0, to)).digest('hex');

  it.each(['process', 'session'] as const)(
    "%s: the digest of many pieces equals Node's, and the hasher goes on after a snapshot",
    async (mode) => {
      const hash = await factory(mode).create();
      await feed(hash, 0, 1000);
      expect((await hash.snapshot()).hex).toBe(expected(1000));
      await feed(hash, 1000, data.length);
      expect((await hash.snapshot()).hex).toBe(expected(data.length));
    },
  );

  it('tells its writer to wait while more than 8 MiB wait in the thread, and lets it go once they are hashed', async () => {
    const hash = await factory('session').create();
    const waits: Array<Promise<void>> = [];
    // Posted without waiting: the queue grows past the bound, so some updates return a promise.
    for (const p of pieces(0, data.length)) {
      const w = hash.update(p);
      if (w) waits.push(w);
    }
    expect(waits.length).toBeGreaterThan(0);
    await Promise.all(waits);
    expect((await hash.snapshot()).hex).toBe(expected(data.length));
  });

  it('session: a state exported by one factory is continued by another; native exports none; garbage restores to null', async () => {
    const first = await factory('session').create();
    await feed(first, 0, 3_000_000);
    const { state } = await first.snapshot();
    expect(state).toMatch(/^[A-Za-z0-9+/=]+$/);
    const second = await factory('session').restore(state!);
    await feed(second!, 3_000_000, data.length);
    expect((await second!.snapshot()).hex).toBe(expected(data.length));

    expect((await (await factory('session').create('local')).snapshot()).state).toBeNull();
    expect((await (await factory('process').create()).snapshot()).state).toBeNull();
    expect(await factory('session').restore(Buffer.from('not a state').toString('base64'))).toBeNull();
  });

  it("does not keep a process alive once its work is done (an idle hash thread is unref'd)", () => {
    // A process that hashed something and never closed its factory must still exit by itself:
    // before the fix, attaching the thread's listeners re-ref'd it and such a process never ended.
    const hook = path.join(__dirname, '..', 'persistence', 'support', 'require-typescript.js');
    const source = path.join(__dirname, '..', '..', 'src', 'registry', 'upload-hasher.ts');
    const script = `require(${JSON.stringify(hook)});
      const { UploadHasherFactory } = require(${JSON.stringify(source)});
      (async () => {
        for (const mode of ['process', 'session']) {
          const h = await new UploadHasherFactory(mode).create();
          await h.update(Buffer.alloc(1024));
          await h.snapshot();
        }
        console.log('hashed');
      })();`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect({ stdout: run.stdout.trim(), status: run.status, signal: run.signal, stderr: run.stderr.slice(0, 500) }).toEqual({
      stdout: 'hashed',
      status: 0,
      signal: null,
      stderr: expect.any(String),
    });
  });
});
