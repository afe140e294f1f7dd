import type { SqlValue } from './database';
import { DatabaseUnavailableError } from './database-faults';

export interface QueryResult {
  rows: unknown[];
  rowCount: number | null;
}

export interface CoalescedReadsOptions {
  /** Reads sent to the server at once; further ones wait here. */
  maxInFlight: number;
  /** A read that waited longer than this for its turn fails as the pool's own wait for a connection does. */
  maxWaitMs: number;
  now?: () => number;
}

interface Waiting {
  sql: string;
  params: SqlValue[];
  since: number;
  joiners: Array<{ resolve(result: QueryResult): void; reject(err: unknown): void }>;
}

/**
 * Identical reads that wait for their turn together are sent once: when `maxInFlight` reads are at the
 * server, a read whose statement and parameters equal one already waiting joins it, and every joiner
 * gets its own copy of the rows. A read never joins one already sent, so each answer was read after its
 * request arrived: a tag pushed (and answered 201) before a pull began is what that pull sees.
 *
 * Why: on PostgreSQL every manifest GET is a round trip, and under load most of them ask the same thing
 * (CI jobs pulling one base image by tag). Measured with `make bench` (64 connections GETting one tag, 2
 * workers, PostgreSQL on the same 2 cores): one query per request spent ~28% of a worker's CPU in the
 * socket writes to the server, and the server's backends took the rest of the cores.
 */
export class CoalescedReads {
  private inFlight = 0;
  /** In arrival order, so turns go first come, first served. */
  private readonly waiting = new Map<string, Waiting>();
  private readonly now: () => number;
  /** Names reads that wait alone (their keys start with `#`; statement keys start with `[`). */
  private unkeyed = 0;
  /** Reads answered by a query another read already waited for (a diagnostic, and what the tests count). */
  joined = 0;

  constructor(
    private readonly send: (sql: string, params: SqlValue[]) => Promise<QueryResult>,
    private readonly options: CoalescedReadsOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  read(sql: string, params: SqlValue[]): Promise<QueryResult> {
    if (this.inFlight < this.options.maxInFlight && this.waiting.size === 0) return this.dispatch(sql, params);
    const key = keyOf(sql, params);
    return new Promise((resolve, reject) => {
      if (key === null) {
        // Parameters that do not key well (bytes) wait their turn on their own.
        this.waiting.set(`#${this.unkeyed++}`, {
          sql,
          params,
          since: this.now(),
          joiners: [{ resolve, reject }],
        });
        return;
      }
      const found = this.waiting.get(key);
      if (found) {
        this.joined++;
        found.joiners.push({ resolve, reject });
      } else {
        this.waiting.set(key, { sql, params, since: this.now(), joiners: [{ resolve, reject }] });
      }
    });
  }

  private dispatch(sql: string, params: SqlValue[]): Promise<QueryResult> {
    this.inFlight++;
    return this.send(sql, params).finally(() => {
      this.inFlight--;
      this.nextTurns();
    });
  }

  private nextTurns(): void {
    for (const [key, entry] of this.waiting) {
      if (this.inFlight >= this.options.maxInFlight) return;
      this.waiting.delete(key);
      if (this.now() - entry.since > this.options.maxWaitMs) {
        const err = new DatabaseUnavailableError(new Error(`a read waited over ${this.options.maxWaitMs} ms for its turn`));
        for (const joiner of entry.joiners) joiner.reject(err);
        continue;
      }
      this.dispatch(entry.sql, entry.params).then(
        (result) => {
          for (const joiner of entry.joiners) joiner.resolve(copyOf(result));
        },
        (err: unknown) => {
          for (const joiner of entry.joiners) joiner.reject(err);
        },
      );
    }
  }
}

/** The statement and its parameters as one string; null when a parameter is bytes. */
function keyOf(sql: string, params: SqlValue[]): string | null {
  if (params.some((p) => Buffer.isBuffer(p))) return null;
  return JSON.stringify([sql, params.map((p) => (typeof p === 'bigint' ? `${p}n` : p))]);
}

/** Each joiner gets rows of its own: a store may map or change what it was given. */
function copyOf(result: QueryResult): QueryResult {
  return { rows: result.rows.map((row) => (typeof row === 'object' && row !== null ? { ...row } : row)), rowCount: result.rowCount };
}
