import type { Response } from 'supertest';
import type { FaultRegistry } from '../support/fault-registry';
import { binary, expectOciError, pushBlob, pushManifest, putManifest, startUpload, withQuery } from '../support/http';
import { descriptor, EMPTY_CONFIG, imageManifest, serialize, type TestBlob } from '../support/oci';
import { MediaType } from '../../src/oci/media-types';

/**
 * The table of storage-faults.test.ts: every registry route that reaches
 * storage, with the state it needs, its request, and the recovery a client
 * makes once the fault has cleared (resume or retry the push, retry the request).
 */
export const CHUNK = 64 * 1024;

export interface Ctx {
  r: FaultRegistry;
  name: string;
  layer: TestBlob;
  /** Where setup left the upload the route works on. */
  location?: string;
}

export interface RouteCase {
  route: string;
  setup(ctx: Ctx): Promise<void>;
  act(ctx: Ctx): Promise<Response>;
  /** After the fault cleared: must bring the repository to the state the request wanted. */
  recover(ctx: Ctx, answer: Response): Promise<void>;
}

export const octets = 'application/octet-stream';

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

export async function startWithFirstChunk(ctx: Ctx): Promise<void> {
  ctx.location = await startUpload(ctx.r.http, ctx.name);
  const res = await ctx.r.http.patch(ctx.location).type(octets).send(ctx.layer.content.subarray(0, CHUNK));
  if (res.status !== 202) throw new Error(`first chunk: ${res.status} ${res.text}`);
}

/** Continues the upload from what storage holds and completes it; a vanished upload is pushed again. */
export async function resumeOrPushAgain(ctx: Ctx, location: string | undefined): Promise<void> {
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

/** The routes under test: how to reach each one's request, make it, and finish its work afterwards. */
export const ROUTES: RouteCase[] = [
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
      await resumeOrPushAgain(ctx, answer.status === 202 ? answer.headers.location : undefined);
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
      if (answer.status === 202) await resumeOrPushAgain(ctx, answer.headers.location);
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
