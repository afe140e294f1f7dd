import type request from 'supertest';
import { MediaType } from '../../../src/oci/media-types';
import { blob, descriptor, imageManifest, serialize, type TestBlob } from '../../support/oci';

type Agent = ReturnType<typeof request>;

/** An `Authorization` header value, or null for an anonymous request. */
export type AuthHeader = string | null;

function withAuth<T extends { set(field: string, value: string): T }>(req: T, auth: AuthHeader): T {
  return auth === null ? req : req.set('Authorization', auth);
}

/** The config and layer every fixture image of a package shares, so manifests can be pushed alone. */
export interface PackageContent {
  config: TestBlob;
  layer: TestBlob;
}

export function packageContent(name: string): PackageContent {
  return { config: blob(JSON.stringify({ architecture: 'amd64', os: 'linux', name })), layer: blob(`layer of ${name}`) };
}

export function postBlob(http: Agent, auth: AuthHeader, name: string, b: TestBlob) {
  return withAuth(http.post(`/v2/${name}/blobs/uploads/?digest=${b.digest}`), auth)
    .set('Content-Type', 'application/octet-stream')
    .send(b.content);
}

/** A manifest over the package's shared config and layer; `seed` makes its digest unique. */
export function manifestFor(content: PackageContent, seed: string) {
  return serialize(
    imageManifest({
      config: descriptor(content.config, MediaType.OCI_CONFIG),
      layers: [descriptor(content.layer, 'application/vnd.oci.image.layer.v1.tar')],
      annotations: { 'org.example.seed': seed },
    }),
  );
}

export function putManifest(http: Agent, auth: AuthHeader, name: string, reference: string, content: Buffer) {
  return withAuth(http.put(`/v2/${name}/manifests/${reference}`), auth)
    .set('Content-Type', MediaType.OCI_MANIFEST)
    .serialize((body: Buffer) => body as unknown as string)
    .send(content);
}

export function getManifest(http: Agent, auth: AuthHeader, name: string, reference: string) {
  return withAuth(http.get(`/v2/${name}/manifests/${reference}`), auth).set('Accept', MediaType.OCI_MANIFEST);
}

export function getBlob(http: Agent, auth: AuthHeader, name: string, digest: string) {
  return withAuth(http.get(`/v2/${name}/blobs/${digest}`), auth);
}

export function deleteManifest(http: Agent, auth: AuthHeader, name: string, digest: string) {
  return withAuth(http.delete(`/v2/${name}/manifests/${digest}`), auth);
}

export function getCatalog(http: Agent, auth: AuthHeader) {
  return withAuth(http.get('/v2/_catalog?n=10000'), auth);
}

/** Pushes the package's config, layer and a manifest tagged `tag`; throws unless every step is created. */
export async function seedPackage(http: Agent, auth: AuthHeader, name: string, tag: string): Promise<PackageContent> {
  const content = packageContent(name);
  for (const b of [content.config, content.layer]) {
    const res = await postBlob(http, auth, name, b);
    if (res.status !== 201) throw new Error(`seeding ${name}: blob ${res.status} ${res.text}`);
  }
  const m = manifestFor(content, `${name}:${tag}`);
  const res = await putManifest(http, auth, name, tag, m.content);
  if (res.status !== 201) throw new Error(`seeding ${name}: manifest ${res.status} ${res.text}`);
  return content;
}
