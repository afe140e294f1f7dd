// Builders for small Docker schema2 / OCI images whose blobs are pushed for real.
import zlib from 'node:zlib';
import { Client, MT } from './http';
import { sha256, uniqueBytes } from './data';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface PushedImage {
  config: Descriptor;
  layer: Descriptor;
  /** Manifest bytes exactly as pushed (Docker-style 3-space indentation, so re-serialising would show). */
  bytes: Buffer;
  digest: string;
  mediaType: string;
}

/** Makes a config + one gzip layer, pushes both blobs to `repo`, and returns the (unpushed) manifest. */
export async function pushImageBlobs(
  client: Client,
  repo: string,
  opts: { arch?: string; variant?: string; flavour?: 'docker' | 'oci' } = {},
): Promise<PushedImage> {
  const arch = opts.arch ?? 'amd64';
  const docker = (opts.flavour ?? 'docker') === 'docker';
  const layerBytes = zlib.gzipSync(uniqueBytes(2048));
  const layerDigest = await client.pushBlob(repo, layerBytes);
  const configBytes = Buffer.from(
    JSON.stringify({
      architecture: arch,
      ...(opts.variant ? { variant: opts.variant } : {}),
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: [sha256(uniqueBytes(8))] },
    }),
  );
  const configDigest = await client.pushBlob(repo, configBytes);
  const config = { mediaType: docker ? MT.dockerConfig : MT.ociConfig, digest: configDigest, size: configBytes.length };
  const layer = { mediaType: docker ? MT.dockerLayer : MT.ociLayer, digest: layerDigest, size: layerBytes.length };
  const mediaType = docker ? MT.dockerManifest : MT.ociManifest;
  const bytes = manifestBytes(mediaType, config, [layer]);
  return { config, layer, bytes, digest: sha256(bytes), mediaType };
}

export function manifestBytes(mediaType: string, config: Descriptor, layers: Descriptor[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, config, layers, ...extra }, null, 3));
}

export function listBytes(mediaType: string, children: { image: PushedImage; arch: string; variant?: string }[]): Buffer {
  return Buffer.from(
    JSON.stringify(
      {
        schemaVersion: 2,
        mediaType,
        manifests: children.map((c) => ({
          mediaType: c.image.mediaType,
          digest: c.image.digest,
          size: c.image.bytes.length,
          platform: { architecture: c.arch, os: 'linux', ...(c.variant ? { variant: c.variant } : {}) },
        })),
      },
      null,
      3,
    ),
  );
}
