import { CoalescedReads, type QueryResult } from '../../src/persistence/coalesced-reads';
import { DatabaseUnavailableError } from '../../src/persistence/database-faults';
import type { SqlValue } from '../../src/persistence/database';

/** A fake server: every send is held until the test answers it, and answers with the send's number. */
function fakeServer() {
  const sent: Array<{ sql: string; params: SqlValue[]; answer(): void; fail(err: Error): void }> = [];
  const send = (sql: string, params: SqlValue[]) =>
    new Promise<QueryResult>((resolve, reject) => {
      const n = sent.length + 1;
      sent.push({ sql, params, answer: () => resolve({ rows: [{ execution: n }], rowCount: 1 }), fail: reject });
    });
  return { sent, send };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('CoalescedReads', () => {
  it('sends reads at once while fewer than maxInFlight are at the server, identical or not', async () => {
    const server = fakeServer();
    const reads = new CoalescedReads(server.send, { maxInFlight: 3, maxWaitMs: 1000 });
    const answers = [reads.read('SELECT 1', []), reads.read('SELECT 1', []), reads.read('SELECT 2', [])];
    expect(server.sent).toHaveLength(3);
    server.sent.forEach((s) => s.answer());
    expect((await Promise.all(answers)).map((a) => a.rows)).toEqual([[{ execution: 1 }], [{ execution: 2 }], [{ execution: 3 }]]);
    expect(reads.joined).toBe(0);
  });

  it('lets identical reads that wait together share one query, each with rows of its own', async () => {
    const server = fakeServer();
    const reads = new CoalescedReads(server.send, { maxInFlight: 1, maxWaitMs: 1000 });
    const first = reads.read('SELECT t FROM tags WHERE name = ?', ['a']);
    const waiting = [1, 2, 3].map(() => reads.read('SELECT t FROM tags WHERE name = ?', ['a']));
    const other = reads.read('SELECT t FROM tags WHERE name = ?', ['b']);
    expect(server.sent).toHaveLength(1);
    server.sent[0]!.answer();
    await settle();
    // The three identical waiting reads went as one query, in arrival order before `b`.
    expect(server.sent).toHaveLength(2);
    expect(server.sent[1]!.params).toEqual(['a']);
    server.sent[1]!.answer();
    await settle();
    server.sent[2]!.answer();
    const results = await Promise.all(waiting);
    expect(results.map((r) => r.rows)).toEqual([[{ execution: 2 }], [{ execution: 2 }], [{ execution: 2 }]]);
    expect(results[0]!.rows[0]).not.toBe(results[1]!.rows[0]);
    expect((await first).rows).toEqual([{ execution: 1 }]);
    expect((await other).rows).toEqual([{ execution: 3 }]);
    expect(reads.joined).toBe(2);
  });

  it('never joins a read already sent: one arriving after the send gets a later query (it sees what was written before it)', async () => {
    const server = fakeServer();
    const reads = new CoalescedReads(server.send, { maxInFlight: 1, maxWaitMs: 1000 });
    const sql = 'SELECT digest FROM tags WHERE name = ?';
    const first = reads.read(sql, ['latest']);
    const second = reads.read(sql, ['latest']);
    server.sent[0]!.answer();
    await settle();
    expect(server.sent).toHaveLength(2);
    // Arrives while the second read is at the server: it must wait for a query of its own.
    const third = reads.read(sql, ['latest']);
    server.sent[1]!.answer();
    await settle();
    expect(server.sent).toHaveLength(3);
    server.sent[2]!.answer();
    expect([(await first).rows, (await second).rows, (await third).rows]).toEqual([
      [{ execution: 1 }],
      [{ execution: 2 }],
      [{ execution: 3 }],
    ]);
    expect(reads.joined).toBe(0);
  });

  it('gives every joiner the error of their shared query', async () => {
    const server = fakeServer();
    const reads = new CoalescedReads(server.send, { maxInFlight: 1, maxWaitMs: 1000 });
    const first = reads.read('SELECT 1', []);
    const joiners = [reads.read('SELECT 1', []), reads.read('SELECT 1', [])];
    server.sent[0]!.answer();
    await first;
    await settle();
    server.sent[1]!.fail(new Error('connection terminated'));
    for (const joiner of joiners) await expect(joiner).rejects.toThrow('connection terminated');
  });

  it('fails reads that waited past maxWaitMs for their turn as the database being unavailable, without sending them', async () => {
    const server = fakeServer();
    let now = 0;
    const reads = new CoalescedReads(server.send, { maxInFlight: 1, maxWaitMs: 2000, now: () => now });
    const stuck = reads.read('SELECT 1', []);
    const late = reads.read('SELECT 2', []);
    now = 2001;
    server.sent[0]!.answer();
    await stuck;
    await expect(late).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(server.sent).toHaveLength(1);
  });

  it('keeps reads with byte parameters apart (each waits for a query of its own)', async () => {
    const server = fakeServer();
    const reads = new CoalescedReads(server.send, { maxInFlight: 1, maxWaitMs: 1000 });
    const first = reads.read('SELECT 1', []);
    const bytes = [reads.read('SELECT ?', [Buffer.from('x')]), reads.read('SELECT ?', [Buffer.from('x')])];
    server.sent[0]!.answer();
    await first;
    await settle();
    server.sent[1]!.answer();
    await settle();
    server.sent[2]!.answer();
    expect((await Promise.all(bytes)).map((r) => r.rows)).toEqual([[{ execution: 2 }], [{ execution: 3 }]]);
  });
});
