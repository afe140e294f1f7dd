import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { migrate } from '../../src/persistence/migration-runner';
import { SqlUploadSessionStore } from '../../src/sessions/sql/sql-upload-session-store';
import { UPLOAD_SESSION_MIGRATIONS } from '../../src/sessions/sql/upload-session-migrations';
import { createTestDatabase, type TestDatabase } from '../persistence/support/test-databases';

const now = Date.now();
const session = (id: string) => ({ id, repository: 'r', offset: 0, startedAt: now, updatedAt: now });

/** A process that ran on this host and has exited: its PID names no process now. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  expect(child.status).toBe(0);
  return child.pid;
}

describe('SqlUploadSessionStore on SQLite: locks held by a dead process', () => {
  let t: TestDatabase;
  let store: SqlUploadSessionStore;
  beforeAll(async () => {
    t = await createTestDatabase('sqlite');
    await migrate(t.db, [UPLOAD_SESSION_MIGRATIONS]);
    store = new SqlUploadSessionStore(t.db);
  });
  afterAll(() => t.dispose());

  it('takes over at once from a holder on this host whose process is gone (kill -9 and restart)', async () => {
    await store.create(session('s1'));
    expect(await store.tryLock('s1', `${os.hostname()}/${deadPid()}/old`, 60_000)).toBe(true);
    expect(await store.tryLock('s1', `${os.hostname()}/${process.pid}/new`, 60_000)).toBe(true);
  });

  it('takes over from a holder that exited but was not reaped yet (a zombie, like the workers of a killed cluster primary)', async () => {
    // A parent that forks a child which exits at once, and never reaps it.
    const script = 'import os, time\npid = os.fork()\nif pid == 0:\n    os._exit(0)\nprint(pid, flush=True)\ntime.sleep(20)\n';
    const parent = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombiePid = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(d.toString()))));
      const deadline = Date.now() + 5_000;
      while (!readFileSync(`/proc/${zombiePid}/stat`, 'utf8').match(/\) Z /) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(readFileSync(`/proc/${zombiePid}/stat`, 'utf8')).toMatch(/\) Z /);
      await store.create(session('s4'));
      expect(await store.tryLock('s4', `${os.hostname()}/${zombiePid}/old`, 60_000)).toBe(true);
      expect(await store.tryLock('s4', `${os.hostname()}/${process.pid}/new`, 60_000)).toBe(true);
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('waits for a live holder, on this host or another', async () => {
    await store.create(session('s2'));
    expect(await store.tryLock('s2', `${os.hostname()}/${process.pid}/a`, 60_000)).toBe(true);
    expect(await store.tryLock('s2', `${os.hostname()}/${process.pid}/b`, 60_000)).toBe(false);
    await store.create(session('s3'));
    expect(await store.tryLock('s3', `elsewhere/1/a`, 60_000)).toBe(true);
    expect(await store.tryLock('s3', `${os.hostname()}/${process.pid}/b`, 60_000)).toBe(false);
  });
});

describe('SqlUploadSessionStore on PostgreSQL: locks only expire', () => {
  let t: TestDatabase;
  let store: SqlUploadSessionStore;
  beforeAll(async () => {
    t = await createTestDatabase('postgres');
    await migrate(t.db, [UPLOAD_SESSION_MIGRATIONS]);
    store = new SqlUploadSessionStore(t.db);
  });
  afterAll(() => t.dispose());

  it('does not take over from a holder named after a gone local PID (it may name another host), only once its lock expired', async () => {
    await store.create(session('p1'));
    expect(await store.tryLock('p1', `${os.hostname()}/${deadPid()}/old`, 300)).toBe(true);
    expect(await store.tryLock('p1', `${os.hostname()}/${process.pid}/new`, 60_000)).toBe(false);
    await new Promise((r) => setTimeout(r, 400));
    expect(await store.tryLock('p1', `${os.hostname()}/${process.pid}/new`, 60_000)).toBe(true);
  });
});
