import type { Response } from 'supertest';
import type request from 'supertest';
import type { ManagementErrorCode } from '../../src/http/management-error-codes';
import type { ErrorCode } from '../../src/http/registry-error';
import { MediaType } from '../../src/oci/media-types';
import { blob, descriptor, imageManifest, serialize, type TestBlob, type TestDescriptor } from './oci';

type Agent = ReturnType<typeof request>;

/** Asserts an OCI error response: the status and the first error's code. */
export function expectOciError(res: Response, status: number, code: ErrorCode): void {
  expect({ status: res.status, code: res.body?.errors?.[0]?.code }).toEqual({ status, code });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body.errors[0].message).toEqual(expect.any(String));
}

/** Asserts a management API (/api/v1) error response: the same envelope, the management API's codes. */
export function expectApiError(res: Response, status: number, code: ManagementErrorCode): void {
  expect({ status: res.status, code: res.body?.errors?.[0]?.code }).toEqual({ status, code });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body.errors[0].message).toEqual(expect.any(String));
}

/** Pushes a blob in one request (POST ?digest=) and checks it was created. */
export async function pushBlob(http: Agent, name: string, b: TestBlob): Promise<void> {
  const res = await http
    .post(`/v2/${name}/blobs/uploads/?digest=${b.digest}`)
    .set('Content-Type', 'application/octet-stream')
    .send(b.content);
  if (res.status !== 201) throw new Error(`pushing ${b.digest} to ${name}: ${res.status} ${res.text}`);
}

/** Pushes a manifest and checks it was created; returns its serialized form. */
export async function pushManifest(
  http: Agent,
  name: string,
  reference: string | null,
  manifest: Record<string, unknown>,
  contentType?: string,
) {
  const s = serialize(manifest, contentType);
  const res = await putManifest(http, name, reference ?? s.digest, s.content, contentType ?? s.mediaType ?? MediaType.OCI_MANIFEST);
  if (res.status !== 201) throw new Error(`pushing manifest to ${name}:${reference}: ${res.status} ${res.text}`);
  return s;
}

/**
 * PUTs manifest bytes as they are. (superagent would JSON-serialize a Buffer
 * sent with a +json Content-Type, so the identity serializer is set.)
 */
export function putManifest(http: Agent, name: string, reference: string, content: Buffer, contentType: string) {
  return http
    .put(`/v2/${name}/manifests/${reference}`)
    .set('Content-Type', contentType)
    .serialize((body: Buffer) => body as unknown as string)
    .send(content);
}

/** Starts an upload session; returns its Location path. */
export async function startUpload(http: Agent, name: string): Promise<string> {
  const res = await http.post(`/v2/${name}/blobs/uploads/`);
  if (res.status !== 202) throw new Error(`starting upload in ${name}: ${res.status} ${res.text}`);
  return res.headers.location as string;
}

/** Appends `?key=value` to a Location that may already carry a query. */
export function withQuery(location: string, key: string, value: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}${key}=${encodeURIComponent(value)}`;
}

/** A superagent parser that collects any response body as the exact bytes. */
export function binary(res: unknown, done: (err: Error | null, body: Buffer) => void): void {
  const stream = res as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => done(null, Buffer.concat(chunks)));
  stream.on('error', (err: Error) => done(err, Buffer.alloc(0)));
}

export interface PushImageOptions {
  /** Distinguishes images of otherwise equal content. */
  seed?: string;
  mediaType?: string;
  configMediaType?: string;
  artifactType?: string;
  subject?: TestDescriptor;
  annotations?: Record<string, string>;
}

/** Pushes a config and one layer, then an image manifest naming them; returns the manifest. */
export async function pushImage(http: Agent, name: string, reference: string | null, o: PushImageOptions = {}) {
  const seed = o.seed ?? `${name}:${reference}`;
  const config = blob(JSON.stringify({ architecture: 'amd64', os: 'linux', seed }));
  const layer = blob(`layer of ${seed}`);
  await pushBlob(http, name, config);
  await pushBlob(http, name, layer);
  const docker = o.mediaType === MediaType.DOCKER_MANIFEST;
  const manifest = imageManifest({
    mediaType: o.mediaType ?? MediaType.OCI_MANIFEST,
    artifactType: o.artifactType,
    config: descriptor(config, o.configMediaType ?? (docker ? MediaType.DOCKER_CONFIG : MediaType.OCI_CONFIG)),
    layers: [descriptor(layer, docker ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : 'application/vnd.oci.image.layer.v1.tar')],
    subject: o.subject,
    annotations: o.annotations,
  });
  return { ...(await pushManifest(http, name, reference, manifest)), config, layer };
}

/** A response header that must be present. */
export function header(res: Response, name: string): string {
  const value = res.headers[name.toLowerCase()];
  if (value === undefined) throw new Error(`response ${res.status} has no ${name} header`);
  return value;
}
