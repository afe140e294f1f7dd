import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { FAULTS, S3_FAULTS, type FaultName, type S3FaultName } from '../support/fault-injection';
import { startFaultRegistry, type FaultRegistry, type FaultStorage } from '../support/fault-registry';
import { binary, expectOciError, pushBlob, pushManifest, putManifest, startUpload, withQuery } from '../support/http';
import { blob, descriptor, EMPTY_CONFIG, imageManifest, serialize, type TestBlob } from '../support/oci';
import { MediaType } from '../../src/oci/media-types';

/**
 * Every storage operation of every route, failing in turn with every fault
 * (operation × fault, the operations found by recording what the route
 * calls). For each case: the answer is a registry error, 507 or 503 with
 * Retry-After where the fault is the server's, never a 500; no blob is
 * visible half-written and no tag names a missing manifest; once the fault
 * clears, the upload resumes (or the request is retried) and succeeds; and
 * nothing is left staged.
 */
const CHUNK = 64 * 1024;

interface Ctx {
  r: FaultRegistry;
  name: string;
  layer: TestBlob;
  /** Where setup left the upload the route works on. */
  location?: string;
}

interface RouteCase {
  route: string;
  setup(ctx: Ctx): Promise<void>;
  act(ctx: Ctx): Promise<Response>;
  /** After the fault cleared: must bring the repository to the state the request wanted. */
  recover(ctx: Ctx, answer: Response): Promise<void>;
}

const octets = 'application/octet-stream';

function manifestOf(layer: TestBlob, subject?: ReturnType<typeof descriptor>) {
  return imageManifest({
    mediaType: MediaType.OCI_MANIFEST,
    config: descriptor(EMPTY_CONFIG, MediaType.OCI_CONFIG),
    layers: [descriptor(layer, 'application/vnd.oci.image.layer.v1.tar')],
    subject,
  });
}

async function pushImage(ctx: Ctx, tag: string) {
  await pushBlob(ctx.r.http, ctx.name, EMPTY_CONFIG);
  await pushBlob(ctx.r.http, ctx.name, ctx.layer);
  return pushManifest(ctx.r.http, ctx.name, tag, manifestOf(ctx.layer));
}

async function startWithFirstChunk(ctx: Ctx): Promise<void> {
  ctx.location = await startUpload(ctx.r.http, ctx.name);
  const res = await ctx.r.http.patch(ctx.location).type(octets).send(ctx.layer.content.subarray(0, CHUNK));
  if (res.status !== 202) throw new Error(`first chunk: ${res.status} ${res.text}`);
}

/** Continues the upload from what storage holds and completes it; a vanished upload is pushed again. */
async function resumeOrPushAgain(ctx: Ctx, location: string | undefined): Promise<void> {
  const http = ctx.r.http;
  const status = location ? await http.get(location) : null;
  if (!location || status?.status === 404) {
    await expectBlobPushed(ctx);
    return;
  }
  expect(status?.status).toBe(204);
  // "0-0" is also what an empty upload reports; these tests never stage a single byte.
  const last = Number(/^0-(\d+)$/.exec(status?.headers.range as string)?.[1]);
  const offset = last > 0 ? last + 1 : 0;
  const rest = ctx.layer.content.subarray(offset);
  if (rest.length > 0) {
    const patched = await http
      .patch(location)
      .type(octets)
      .set('Content-Range', `${offset}-${ctx.layer.content.length - 1}`)
      .send(rest);
    expect(patched.status).toBe(202);
  }
  expect((await http.put(withQuery(location, 'digest', ctx.layer.digest))).status).toBe(201);
  await expectBlobReadable(ctx);
}

/**
 * The blob is there, or a retried push puts it there. A blob whose file vanished under its
 * link is answered as unknown on GET while HEAD (the index) still knows it: pushing it again
 * restores the bytes.
 */
async function expectBlobPushed(ctx: Ctx): Promise<void> {
  const head = await ctx.r.http.head(`/v2/${ctx.name}/blobs/${ctx.layer.digest}`);
  const get = await ctx.r.http.get(`/v2/${ctx.name}/blobs/${ctx.layer.digest}`);
  if (head.status !== 200 || get.status !== 200) {
    if (get.status !== 200) expectOciError(get, 404, 'BLOB_UNKNOWN');
    await pushBlob(ctx.r.http, ctx.name, ctx.layer);
  }
  await expectBlobReadable(ctx);
}

async function expectBlobReadable(ctx: Ctx): Promise<void> {
  const res = await ctx.r.http.get(`/v2/${ctx.name}/blobs/${ctx.layer.digest}`).buffer(true).parse(binary);
  expect(res.status).toBe(200);
  expect((res.body as Buffer).equals(ctx.layer.content)).toBe(true);
}

const ROUTES: RouteCase[] = [
  {
    route: 'HEAD blob',
    setup: (ctx) => pushBlob(ctx.r.http, ctx.name, ctx.layer),
    act: (ctx) => ctx.r.http.head(`/v2/${ctx.name}/blobs/${ctx.layer.digest}`),
    recover: (ctx) => expectBlobPushed(ctx),
  },
  {
    route: 'GET blob',
    setup: (ctx) => pushBlob(ctx.r.http, ctx.name, ctx.layer),
    act: (ctx) => ctx.r.http.get(`/v2/${ctx.name}/blobs/${ctx.layer.digest}`).buffer(true).parse(binary),
    recover: (ctx) => expectBlobPushed(ctx),
  },
  {
    route: 'DELETE blob',
    setup: (ctx) => pushBlob(ctx.r.http, ctx.name, ctx.layer),
    act: (ctx) => ctx.r.http.delete(`/v2/${ctx.name}/blobs/${ctx.layer.digest}`),
    async recover(ctx) {
      const again = await ctx.r.http.delete(`/v2/${ctx.name}/blobs/${ctx.layer.digest}`);
      expect([202, 404]).toContain(again.status);
      expect((await ctx.r.http.head(`/v2/${ctx.name}/blobs/${ctx.layer.digest}`)).status).toBe(404);
    },
  },
  {
    route: 'POST upload',
    setup: async () => undefined,
    act: (ctx) => ctx.r.http.post(`/v2/${ctx.name}/blobs/uploads/`),
    async recover(ctx, answer) {
      await resumeOrPushAgain(ctx, answer.status === 202 ? (answer.headers.location as string) : undefined);
    },
  },
  {
    route: 'PATCH upload',
    setup: startWithFirstChunk,
    act: (ctx) =>
      ctx.r.http
        .patch(ctx.location as string)
        .type(octets)
        .set('Content-Range', `${CHUNK}-${2 * CHUNK - 1}`)
        .send(ctx.layer.content.subarray(CHUNK, 2 * CHUNK)),
    recover: (ctx) => resumeOrPushAgain(ctx, ctx.location),
  },
  {
    route: 'PUT upload',
    setup: startWithFirstChunk,
    act: (ctx) =>
      ctx.r.http
        .put(withQuery(ctx.location as string, 'digest', ctx.layer.digest))
        .type(octets)
        .send(ctx.layer.content.subarray(CHUNK)),
    async recover(ctx, answer) {
      if (answer.status === 201) await expectBlobReadable(ctx);
      else await resumeOrPushAgain(ctx, ctx.location);
    },
  },
  {
    route: 'GET upload',
    setup: startWithFirstChunk,
    act: (ctx) => ctx.r.http.get(ctx.location as string),
    recover: (ctx) => resumeOrPushAgain(ctx, ctx.location),
  },
  {
    route: 'DELETE upload',
    setup: startWithFirstChunk,
    act: (ctx) => ctx.r.http.delete(ctx.location as string),
    async recover(ctx) {
      // The cancel, retried, finishes (or finds it finished); then the push is retried.
      expect([204, 404]).toContain((await ctx.r.http.delete(ctx.location as string)).status);
      expectOciError(await ctx.r.http.get(ctx.location as string), 404, 'BLOB_UPLOAD_UNKNOWN');
      await expectBlobPushed(ctx);
    },
  },
  {
    route: 'POST monolithic',
    setup: async () => undefined,
    act: (ctx) => ctx.r.http.post(`/v2/${ctx.name}/blobs/uploads/?digest=${ctx.layer.digest}`).type(octets).send(ctx.layer.content),
    recover: (ctx) => expectBlobPushed(ctx),
  },
  {
    route: 'POST mount',
    setup: (ctx) => pushBlob(ctx.r.http, `${ctx.name}-source`, ctx.layer),
    act: (ctx) => ctx.r.http.post(`/v2/${ctx.name}/blobs/uploads/?mount=${ctx.layer.digest}&from=${ctx.name}-source`),
    async recover(ctx, answer) {
      // A mount that fell back to an upload leaves one the client completes (here) or cancels.
      if (answer.status === 202) await resumeOrPushAgain(ctx, answer.headers.location as string);
      const retried = await ctx.r.http.post(`/v2/${ctx.name}/blobs/uploads/?mount=${ctx.layer.digest}&from=${ctx.name}-source`);
      expect(retried.status).toBe(201);
      await expectBlobReadable(ctx);
    },
  },
  {
    route: 'PUT manifest',
    async setup(ctx) {
      await pushBlob(ctx.r.http, ctx.name, EMPTY_CONFIG);
      await pushBlob(ctx.r.http, ctx.name, ctx.layer);
    },
    act: (ctx) => {
      const s = serialize(manifestOf(ctx.layer));
      return putManifest(ctx.r.http, ctx.name, 'v1', s.content, MediaType.OCI_MANIFEST);
    },
    async recover(ctx) {
      await pushManifest(ctx.r.http, ctx.name, 'v1', manifestOf(ctx.layer));
      expect((await ctx.r.http.get(`/v2/${ctx.name}/manifests/v1`).set('Accept', MediaType.OCI_MANIFEST)).status).toBe(200);
    },
  },
  {
    route: 'GET manifest',
    setup: (ctx) => pushImage(ctx, 'v1').then(() => undefined),
    act: (ctx) => ctx.r.http.get(`/v2/${ctx.name}/manifests/v1`).set('Accept', MediaType.OCI_MANIFEST),
    async recover(ctx) {
      expect((await ctx.r.http.get(`/v2/${ctx.name}/manifests/v1`).set('Accept', MediaType.OCI_MANIFEST)).status).toBe(200);
    },
  },
  {
    route: 'HEAD manifest',
    setup: (ctx) => pushImage(ctx, 'v1').then(() => undefined),
    act: (ctx) => ctx.r.http.head(`/v2/${ctx.name}/manifests/v1`).set('Accept', MediaType.OCI_MANIFEST),
    async recover(ctx) {
      expect((await ctx.r.http.head(`/v2/${ctx.name}/manifests/v1`).set('Accept', MediaType.OCI_MANIFEST)).status).toBe(200);
    },
  },
  {
    route: 'DELETE manifest',
    async setup(ctx) {
      const pushed = await pushImage(ctx, 'v1');
      ctx.location = pushed.digest;
    },
    act: (ctx) => ctx.r.http.delete(`/v2/${ctx.name}/manifests/${ctx.location}`),
    async recover(ctx) {
      expect([202, 404]).toContain((await ctx.r.http.delete(`/v2/${ctx.name}/manifests/${ctx.location}`)).status);
      expect((await ctx.r.http.get(`/v2/${ctx.name}/manifests/v1`).set('Accept', MediaType.OCI_MANIFEST)).status).toBe(404);
    },
  },
  {
    route: 'GET tags',
    setup: (ctx) => pushImage(ctx, 'v1').then(() => undefined),
    act: (ctx) => ctx.r.http.get(`/v2/${ctx.name}/tags/list`),
    async recover(ctx) {
      const res = await ctx.r.http.get(`/v2/${ctx.name}/tags/list`);
      expect(res.status).toBe(200);
      expect(res.body.tags).toEqual(['v1']);
    },
  },
  {
    route: 'GET referrers',
    async setup(ctx) {
      const subject = await pushImage(ctx, 'v1');
      const subjectDescriptor = { mediaType: MediaType.OCI_MANIFEST, digest: subject.digest, size: subject.content.length };
      await pushManifest(ctx.r.http, ctx.name, null, manifestOf(ctx.layer, subjectDescriptor));
      ctx.location = subject.digest;
    },
    act: (ctx) => ctx.r.http.get(`/v2/${ctx.name}/referrers/${ctx.location}`),
    async recover(ctx) {
      const res = await ctx.r.http.get(`/v2/${ctx.name}/referrers/${ctx.location}`);
      expect(res.status).toBe(200);
      expect(res.body.manifests).toHaveLength(1);
    },
  },
];

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

describe.each(STORAGES.flatMap(({ storage, covers }) => ROUTES.map((routeCase) => ({ storage, covers, routeCase, route: `${routeCase.route} (${storage})` }))))('$route under storage faults', ({ storage, covers, routeCase, route }) => {
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
  ] as const)('answers the chunk\'s own fault (507) when %s then fails with %s, and the upload resumes', async (operation, fault) => {
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
