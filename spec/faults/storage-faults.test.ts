import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { FAULTS, S3_FAULTS, type FaultName, type S3FaultName } from '../support/fault-injection';
import { startFaultRegistry, type FaultRegistry, type FaultStorage } from '../support/fault-registry';
import { expectOciError } from '../support/http';
import { blob } from '../support/oci';
import { MediaType } from '../../src/oci/media-types';
import { CHUNK, octets, resumeOrPushAgain, ROUTES, startWithFirstChunk, type Ctx } from './fault-routes';

/**
 * Every storage operation of every route (fault-routes.ts), each call failing
 * in turn with every fault (the calls found by recording what the route
 * makes). For each case: the answer is a registry error, 507 or 503 with
 * Retry-After where the fault is the server's, never a 500; no blob is
 * visible half-written and no tag names a missing manifest; once the fault
 * clears, the upload resumes (or the request is retried) and succeeds; and
 * nothing is left staged.
 */
/** Operations a vanished file or session applies to; for the others the fault does not exist. */
const CAN_VANISH = new Set([
  'blobs.stat',
  'blobs.openRead',
  'blobs.copyTo',
  'blobs.delete',
  'blobs.uploadSize',
  'blobs.openWrite',
  'blobs.write',
  'blobs.readUpload',
  'blobs.commitUpload',
  'blobs.abortUpload',
  'sessions.get',
  'sessions.setOffset',
  'sessions.delete',
  'sessions.tryLock',
  'sessions.unlock',
]);

const EXPECTED: Record<Exclude<FaultName, 'vanished'> | S3FaultName, { status: number; code: 'STORAGE_FULL' | 'UNAVAILABLE' }> = {
  ENOSPC: { status: 507, code: 'STORAGE_FULL' },
  EIO: { status: 503, code: 'UNAVAILABLE' },
  EACCES: { status: 503, code: 'UNAVAILABLE' },
  timeout: { status: 503, code: 'UNAVAILABLE' },
  InternalError: { status: 503, code: 'UNAVAILABLE' },
  SlowDown: { status: 503, code: 'UNAVAILABLE' },
  ECONNRESET: { status: 503, code: 'UNAVAILABLE' },
};
const UNKNOWN_CODES = ['BLOB_UNKNOWN', 'BLOB_UPLOAD_UNKNOWN', 'MANIFEST_UNKNOWN', 'NAME_UNKNOWN'];

/**
 * Faults a request absorbs by design, answering with success: clean-up after the work is done
 * (the session of a committed blob, an S3 tail object replaced by a newer one, both removed later
 * anyway), a lock that expires by itself, and a file or session vanishing that leaves the request
 * nothing to do wrong (the next request finds the upload unknown). Everywhere else a success
 * would hide the fault from the client.
 */
function absorbable(route: string, operation: string, fault: FaultName | S3FaultName): boolean {
  if (fault === 'vanished' || operation === 'sessions.unlock') return true;
  if (operation === 'sessions.delete') return /^(PUT upload|POST monolithic)/.test(route);
  if (operation === 's3.DeleteObjectCommand') return /^(PATCH|PUT) upload/.test(route);
  return false;
}

/** The answer to a request that met `fault`: its registry error, or a success where the fault was absorbed. */
function expectAnswer(res: Response, fault: FaultName | S3FaultName, method: string, mayAbsorb: boolean): 'error' | 'absorbed' {
  expect(res.status).not.toBe(500);
  if (res.status < 400) {
    if (!mayAbsorb) throw new Error(`answered ${res.status}: the fault was hidden from the client`);
    return 'absorbed';
  }
  // Blob GETs are read as bytes: their error JSON too.
  if (Buffer.isBuffer(res.body)) res.body = JSON.parse(res.body.toString('utf8') || 'null');
  const code = method === 'HEAD' ? undefined : (res.body?.errors?.[0]?.code as string | undefined);
  if (fault === 'vanished') {
    expect(res.status).toBe(404);
    if (code !== undefined) expect(UNKNOWN_CODES).toContain(code);
    return 'error';
  }
  const expected = EXPECTED[fault];
  expect(res.status).toBe(expected.status);
  if (method !== 'HEAD') expectOciError(res, expected.status, expected.code);
  if (expected.status === 503) expect(res.headers['retry-after']).toMatch(/^\d+$/);
  return 'error';
}

/** Every committed blob's bytes hash to its name: nothing half-written is visible. */
async function expectBlobsWhole(r: FaultRegistry): Promise<void> {
  expect(await r.brokenBlob()).toBeNull();
}

/** Every tag of the repository resolves to a manifest that can be pulled. */
async function expectTagsResolve(r: FaultRegistry, name: string): Promise<void> {
  for (const tag of await r.index.listTags(name, { limit: 1000 })) {
    const res = await r.http.get(`/v2/${name}/manifests/${tag}`).set('Accept', MediaType.OCI_MANIFEST);
    expect(res.status).toBe(200);
  }
}

interface Tally {
  cases: number;
  errors: number;
  absorbed: string[];
  notApplicable: number;
}
const tallies = new Map<string, Tally>();

afterAll(() => {
  let total = 0;
  const lines = [...tallies].map(([route, t]) => {
    total += t.cases;
    return `  ${route}: ${t.cases} cases (${t.errors} answered with the fault's error, ${t.absorbed.length} absorbed${
      t.absorbed.length ? `: ${t.absorbed.join(', ')}` : ''
    }; ${t.notApplicable} operation × fault pairs not applicable)`;
  });
  console.log(`storage faults: ${total} (route, operation call, fault) cases ran\n${lines.join('\n')}`);
});

/** The faults an operation can meet: S3's own for S3 requests, the local ones for the rest. */
function faultsOf(operation: string): ReadonlyArray<FaultName | S3FaultName> {
  return operation.startsWith('s3.') ? S3_FAULTS : FAULTS;
}

/**
 * With S3 blob storage only the S3 requests are failed: the session store and
 * the index are the same as with fs, and their faults are covered there.
 */
const STORAGES: ReadonlyArray<{ storage: FaultStorage; covers: (operation: string) => boolean }> = [
  { storage: 'fs', covers: () => true },
  { storage: 's3', covers: (operation) => operation.startsWith('s3.') },
];

describe.each(
  STORAGES.flatMap(({ storage, covers }) =>
    ROUTES.map((routeCase) => ({ storage, covers, routeCase, route: `${routeCase.route} (${storage})` })),
  ),
)('$route under storage faults', ({ storage, covers, routeCase, route }) => {
  let caseNumber = 0;
  const fresh = async (): Promise<Ctx> => ({
    r: await startFaultRegistry(storage),
    name: `faults/r${(caseNumber += 1)}`,
    layer: blob(randomBytes(3 * CHUNK)),
  });

  it('answers every storage fault of every operation it makes with a registry error, and recovers', async () => {
    // The operations the route makes, recorded on a run without faults.
    const probe = await fresh();
    let operations: Array<{ operation: string; occurrence: number }>;
    try {
      await routeCase.setup(probe);
      probe.r.faults.recording = true;
      const res = await routeCase.act(probe);
      probe.r.faults.recording = false;
      expect(res.status).toBeLessThan(300);
      // Each call in turn: the second `sessions.get` of a request fails elsewhere than its first.
      const seen = new Map<string, number>();
      operations = probe.r.faults.calls.filter(covers).map((operation) => {
        const occurrence = (seen.get(operation) ?? 0) + 1;
        seen.set(operation, occurrence);
        return { operation, occurrence };
      });
    } finally {
      await probe.r.close();
    }

    const tally: Tally = { cases: 0, errors: 0, absorbed: [], notApplicable: 0 };
    tallies.set(route, tally);
    for (const { operation, occurrence } of operations) {
      for (const fault of faultsOf(operation)) {
        if (fault === 'vanished' && !CAN_VANISH.has(operation)) {
          tally.notApplicable += 1;
          continue;
        }
        const ctx = await fresh();
        const id = `${route} / ${operation} #${occurrence} / ${fault}`;
        try {
          await routeCase.setup(ctx);
          ctx.r.faults.arm({ operation, fault, occurrence });
          const answer = await routeCase.act(ctx);
          ctx.r.faults.clear();
          if (!ctx.r.faults.allHit) throw new Error(`${id}: the fault was never hit`);
          const method = routeCase.route.split(' ')[0] as string;
          const outcome = expectAnswer(answer, fault, method, absorbable(routeCase.route, operation, fault));
          await expectBlobsWhole(ctx.r);
          await expectTagsResolve(ctx.r, ctx.name);
          await routeCase.recover(ctx, answer);
          await expectBlobsWhole(ctx.r);
          await expectTagsResolve(ctx.r, ctx.name);
          // Everything started was completed or cancelled: nothing may stay staged.
          expect(await ctx.r.blobs.listUploads()).toEqual([]);
          tally.cases += 1;
          if (outcome === 'absorbed') tally.absorbed.push(`${operation}#${occurrence}/${fault}`);
          else tally.errors += 1;
        } catch (err) {
          (err as Error).message = `${id}: ${(err as Error).message}`;
          throw err;
        } finally {
          await ctx.r.close();
        }
      }
    }
    // Some hundred registries and requests: far more than one test's usual budget.
  }, 180_000);
});

describe('a chunk cut short whose clean-up fails too', () => {
  it.each([
    // The first setOffset of a chunk that fails is the one recording how far it got.
    ['sessions.setOffset', 'EIO'],
    ['sessions.setOffset', 'timeout'],
  ] as const)("answers the chunk's own fault (507) when %s then fails with %s, and the upload resumes", async (operation, fault) => {
    const ctx: Ctx = { r: await startFaultRegistry(), name: 'faults/double', layer: blob(randomBytes(3 * CHUNK)) };
    try {
      await startWithFirstChunk(ctx);
      // Armed in order: the chunk's write fails first, then the bookkeeping after it.
      ctx.r.faults.arm({ operation: 'blobs.write', fault: 'ENOSPC' }, { operation, fault });
      const answer = await ctx.r.http
        .patch(ctx.location as string)
        .type(octets)
        .set('Content-Range', `${CHUNK}-${2 * CHUNK - 1}`)
        .send(ctx.layer.content.subarray(CHUNK, 2 * CHUNK));
      ctx.r.faults.clear();
      expect(ctx.r.faults.allHit).toBe(true);
      expectOciError(answer, 507, 'STORAGE_FULL');
      await resumeOrPushAgain(ctx, ctx.location);
      expect(await ctx.r.blobs.listUploads()).toEqual([]);
    } finally {
      await ctx.r.close();
    }
  });
});
