export const MediaType = Object.freeze({
  OCI_MANIFEST: 'application/vnd.oci.image.manifest.v1+json',
  OCI_INDEX: 'application/vnd.oci.image.index.v1+json',
  OCI_CONFIG: 'application/vnd.oci.image.config.v1+json',
  OCI_EMPTY: 'application/vnd.oci.empty.v1+json',
  /** Dropped from the final v1.1 specs but still sent by older oras releases. */
  OCI_ARTIFACT_MANIFEST: 'application/vnd.oci.artifact.manifest.v1+json',
  DOCKER_MANIFEST: 'application/vnd.docker.distribution.manifest.v2+json',
  DOCKER_MANIFEST_LIST: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DOCKER_CONFIG: 'application/vnd.docker.container.image.v1+json',
  DOCKER_FOREIGN_LAYER: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  DOCKER_SCHEMA1_SIGNED: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  DOCKER_SCHEMA1: 'application/vnd.docker.distribution.manifest.v1+json',
});

export const MANIFEST_MEDIA_TYPES: ReadonlySet<string> = new Set([
  MediaType.OCI_MANIFEST,
  MediaType.OCI_INDEX,
  MediaType.OCI_ARTIFACT_MANIFEST,
  MediaType.DOCKER_MANIFEST,
  MediaType.DOCKER_MANIFEST_LIST,
]);

export const INDEX_MEDIA_TYPES: ReadonlySet<string> = new Set([MediaType.OCI_INDEX, MediaType.DOCKER_MANIFEST_LIST]);

/** Layers that live outside the registry (Windows base layers): their blobs are never required. */
export const FOREIGN_LAYER_MEDIA_TYPES: ReadonlySet<string> = new Set([
  MediaType.DOCKER_FOREIGN_LAYER,
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
]);
