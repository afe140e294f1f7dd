import { ManifestInvalid } from '../../src/oci/grammar-errors';
import { baseMediaType, parseManifest } from '../../src/oci/manifest';
import { MediaType } from '../../src/oci/media-types';
import { blob, descriptor, EMPTY_CONFIG, imageIndex, imageManifest, sha256 } from '../support/oci';

const config = blob('{"architecture":"amd64","os":"linux"}');
const layer1 = blob('layer one');
const layer2 = blob('layer two');
const child = blob('a child manifest, as far as digests go');
const subject = blob('a subject manifest');

const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

function bytes(manifest: unknown): Buffer {
  return Buffer.from(JSON.stringify(manifest));
}

/** What parseManifest throws for the body (the test then says which error it must be). */
function parseError(body: Buffer, contentType?: string): unknown {
  try {
    parseManifest(body, contentType);
  } catch (err) {
    return err;
  }
  throw new Error('parseManifest accepted the manifest');
}

describe('parseManifest: image manifests', () => {
  it('parses an OCI image manifest and lists its config and layers as blob references', () => {
    const m = imageManifest({
      config: descriptor(config, MediaType.OCI_CONFIG),
      layers: [descriptor(layer1, LAYER), descriptor(layer2, LAYER)],
      annotations: { 'org.example': 'yes' },
    });
    expect(parseManifest(bytes(m), MediaType.OCI_MANIFEST)).toEqual({
      mediaType: MediaType.OCI_MANIFEST,
      artifactType: null,
      configDigest: config.digest,
      configMediaType: MediaType.OCI_CONFIG,
      subject: null,
      annotations: { 'org.example': 'yes' },
      references: [
        { digest: config.digest, kind: 'blob' },
        { digest: layer1.digest, kind: 'blob' },
        { digest: layer2.digest, kind: 'blob' },
      ],
      children: [],
    });
  });

  it('lists a blob used twice only once', () => {
    const m = imageManifest({
      config: descriptor(config, MediaType.OCI_CONFIG),
      layers: [descriptor(layer1, LAYER), descriptor(layer1, LAYER)],
    });
    expect(parseManifest(bytes(m), MediaType.OCI_MANIFEST).references).toHaveLength(2);
  });

  it('takes the media type from Content-Type when the body omits mediaType', () => {
    const m = imageManifest({ mediaType: null, config: descriptor(config, MediaType.OCI_CONFIG) });
    expect(parseManifest(bytes(m), MediaType.OCI_MANIFEST).mediaType).toBe(MediaType.OCI_MANIFEST);
  });

  it('recognises an OCI manifest by its shape when neither body nor header names a type', () => {
    const m = imageManifest({ mediaType: null, config: descriptor(config, MediaType.OCI_CONFIG) });
    expect(parseManifest(bytes(m), undefined).mediaType).toBe(MediaType.OCI_MANIFEST);
    expect(parseManifest(bytes(m), 'application/octet-stream').mediaType).toBe(MediaType.OCI_MANIFEST);
  });

  it('ignores Content-Type parameters', () => {
    const m = imageManifest({ config: descriptor(config, MediaType.OCI_CONFIG) });
    expect(parseManifest(bytes(m), `${MediaType.OCI_MANIFEST}; charset=utf-8`).mediaType).toBe(MediaType.OCI_MANIFEST);
  });

  it('parses a Docker schema 2 manifest', () => {
    const m = imageManifest({
      mediaType: MediaType.DOCKER_MANIFEST,
      config: descriptor(config, MediaType.DOCKER_CONFIG),
      layers: [descriptor(layer1, DOCKER_LAYER)],
    });
    const parsed = parseManifest(bytes(m), MediaType.DOCKER_MANIFEST);
    expect(parsed.mediaType).toBe(MediaType.DOCKER_MANIFEST);
    expect(parsed.configMediaType).toBe(MediaType.DOCKER_CONFIG);
    expect(parsed.references.map((r) => r.digest)).toEqual([config.digest, layer1.digest]);
  });

  it('refuses a Docker schema 2 manifest without mediaType in the body', () => {
    const m = imageManifest({ mediaType: null, config: descriptor(config, MediaType.DOCKER_CONFIG) });
    expect(parseError(bytes(m), MediaType.DOCKER_MANIFEST)).toBeInstanceOf(ManifestInvalid);
  });

  it('parses an artifact manifest with artifactType, the empty config and a subject', () => {
    const m = imageManifest({
      artifactType: 'application/vnd.example.sbom',
      config: descriptor(EMPTY_CONFIG, MediaType.OCI_EMPTY),
      layers: [descriptor(layer1, 'application/spdx+json')],
      subject: descriptor(subject, MediaType.OCI_MANIFEST),
    });
    const parsed = parseManifest(bytes(m), MediaType.OCI_MANIFEST);
    expect(parsed).toMatchObject({
      mediaType: MediaType.OCI_MANIFEST,
      artifactType: 'application/vnd.example.sbom',
      configDigest: EMPTY_CONFIG.digest,
      configMediaType: MediaType.OCI_EMPTY,
      subject: subject.digest,
    });
    // The subject need not exist, so it is not a reference.
    expect(parsed.references.map((r) => r.digest)).toEqual([EMPTY_CONFIG.digest, layer1.digest]);
  });

  it('excludes foreign layers that carry urls from the references, but not foreign layers without them', () => {
    const foreign = blob('windows base layer');
    const local = blob('foreign media type but no urls');
    const m = imageManifest({
      mediaType: MediaType.DOCKER_MANIFEST,
      config: descriptor(config, MediaType.DOCKER_CONFIG),
      layers: [
        descriptor(foreign, MediaType.DOCKER_FOREIGN_LAYER, { urls: ['https://example.com/layer.tar.gz'] }),
        descriptor(local, MediaType.DOCKER_FOREIGN_LAYER),
        descriptor(layer1, DOCKER_LAYER, { urls: ['https://example.com/mirror'] }),
      ],
    });
    const refs = parseManifest(bytes(m), MediaType.DOCKER_MANIFEST).references.map((r) => r.digest);
    expect(refs).toEqual([config.digest, local.digest, layer1.digest]);
  });

  it('excludes OCI non-distributable layers with urls', () => {
    const nondist = blob('nondistributable');
    const m = imageManifest({
      config: descriptor(config, MediaType.OCI_CONFIG),
      layers: [descriptor(nondist, 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', { urls: ['https://x'] })],
    });
    expect(parseManifest(bytes(m), MediaType.OCI_MANIFEST).references.map((r) => r.digest)).toEqual([config.digest]);
  });
});

describe('parseManifest: indexes', () => {
  const platform = { architecture: 'amd64', os: 'linux' };

  it('parses an OCI index; its manifests are manifest references and children', () => {
    const children = [descriptor(child, MediaType.OCI_MANIFEST, { platform })];
    const parsed = parseManifest(bytes(imageIndex(children)), MediaType.OCI_INDEX);
    expect(parsed).toMatchObject({
      mediaType: MediaType.OCI_INDEX,
      configDigest: null,
      configMediaType: null,
      references: [{ digest: child.digest, kind: 'manifest' }],
      children,
    });
  });

  it('parses a Docker manifest list', () => {
    const m = imageIndex([descriptor(child, MediaType.DOCKER_MANIFEST, { platform })], {
      mediaType: MediaType.DOCKER_MANIFEST_LIST,
    });
    const parsed = parseManifest(bytes(m), MediaType.DOCKER_MANIFEST_LIST);
    expect(parsed.mediaType).toBe(MediaType.DOCKER_MANIFEST_LIST);
    expect(parsed.references).toEqual([{ digest: child.digest, kind: 'manifest' }]);
  });

  it('recognises an index without mediaType by its manifests array', () => {
    const m = { schemaVersion: 2, manifests: [descriptor(child, MediaType.OCI_MANIFEST)] };
    expect(parseManifest(bytes(m), undefined).mediaType).toBe(MediaType.OCI_INDEX);
  });

  it('records an index subject and artifactType', () => {
    const m = imageIndex([], { subject: descriptor(subject, MediaType.OCI_MANIFEST), artifactType: 'application/x.example' });
    expect(parseManifest(bytes(m), MediaType.OCI_INDEX)).toMatchObject({
      subject: subject.digest,
      artifactType: 'application/x.example',
      references: [],
    });
  });
});

describe('parseManifest: the legacy artifact manifest', () => {
  it('lists its blobs as references', () => {
    const m = {
      mediaType: MediaType.OCI_ARTIFACT_MANIFEST,
      artifactType: 'application/vnd.example.signature',
      blobs: [descriptor(layer1, 'application/octet-stream')],
      subject: descriptor(subject, MediaType.OCI_MANIFEST),
    };
    expect(parseManifest(bytes(m), MediaType.OCI_ARTIFACT_MANIFEST)).toMatchObject({
      mediaType: MediaType.OCI_ARTIFACT_MANIFEST,
      artifactType: 'application/vnd.example.signature',
      subject: subject.digest,
      references: [{ digest: layer1.digest, kind: 'blob' }],
    });
  });
});

describe('parseManifest: refusals', () => {
  const valid = imageManifest({ config: descriptor(config, MediaType.OCI_CONFIG) });

  it('refuses a Content-Type that contradicts the body mediaType', () => {
    const err = parseError(bytes(valid), MediaType.OCI_INDEX);
    expect(err).toBeInstanceOf(ManifestInvalid);
  });

  it('refuses a Docker Content-Type on an OCI manifest', () => {
    expect(parseError(bytes(valid), MediaType.DOCKER_MANIFEST)).toBeInstanceOf(ManifestInvalid);
  });

  it.each([MediaType.DOCKER_SCHEMA1, MediaType.DOCKER_SCHEMA1_SIGNED])('refuses Docker schema 1 (%s)', (type) => {
    const schema1 = { schemaVersion: 1, name: 'library/x', tag: 'latest', architecture: 'amd64', fsLayers: [], history: [] };
    expect(parseError(bytes(schema1), type)).toBeInstanceOf(ManifestInvalid);
  });

  it('refuses schema 1 declared in the body', () => {
    const schema1 = { schemaVersion: 1, mediaType: MediaType.DOCKER_SCHEMA1, fsLayers: [] };
    expect(parseError(bytes(schema1), undefined)).toBeInstanceOf(ManifestInvalid);
  });

  it.each([
    ['malformed JSON', Buffer.from('{"schemaVersion": 2,')],
    ['a JSON array', Buffer.from('[]')],
    ['a JSON string', Buffer.from('"manifest"')],
    ['JSON null', Buffer.from('null')],
    ['an empty body', Buffer.alloc(0)],
  ])('refuses %s', (_what, body) => {
    expect(parseError(body, MediaType.OCI_MANIFEST)).toBeInstanceOf(ManifestInvalid);
  });

  it('refuses an image manifest without config', () => {
    const { config: _omitted, ...noConfig } = valid;
    expect(parseError(bytes(noConfig), MediaType.OCI_MANIFEST)).toBeInstanceOf(ManifestInvalid);
  });

  it('refuses an image manifest without layers', () => {
    const { layers: _omitted, ...noLayers } = valid;
    expect(parseError(bytes(noLayers), MediaType.OCI_MANIFEST)).toBeInstanceOf(ManifestInvalid);
  });

  it('refuses schemaVersion other than 2', () => {
    expect(parseError(bytes({ ...valid, schemaVersion: 1 }), MediaType.OCI_MANIFEST)).toBeInstanceOf(ManifestInvalid);
  });

  it('refuses a descriptor with a malformed digest', () => {
    const m = imageManifest({ config: { mediaType: MediaType.OCI_CONFIG, digest: 'sha256:nothex', size: 2 } });
    expect(parseError(bytes(m), MediaType.OCI_MANIFEST)).toBeInstanceOf(ManifestInvalid);
  });

  it('refuses a descriptor with a negative size', () => {
    const m = imageManifest({ config: { mediaType: MediaType.OCI_CONFIG, digest: sha256('x'), size: -1 } });
    expect(parseError(bytes(m), MediaType.OCI_MANIFEST)).toBeInstanceOf(ManifestInvalid);
  });

  it('refuses an index without manifests', () => {
    const m = { schemaVersion: 2, mediaType: MediaType.OCI_INDEX };
    expect(parseError(bytes(m), MediaType.OCI_INDEX)).toBeInstanceOf(ManifestInvalid);
  });

  it('refuses an unknown media type', () => {
    const m = { ...valid, mediaType: 'application/vnd.example.unknown+json' };
    expect(parseError(bytes(m), undefined)).toBeInstanceOf(ManifestInvalid);
  });

  it('refuses a body with neither a type nor a recognisable shape', () => {
    expect(parseError(bytes({ schemaVersion: 2 }), undefined)).toBeInstanceOf(ManifestInvalid);
  });
});

describe('baseMediaType', () => {
  it('strips parameters and lowercases', () => {
    expect(baseMediaType('Application/JSON; charset=utf-8')).toBe('application/json');
    expect(baseMediaType(undefined)).toBeUndefined();
    expect(baseMediaType('')).toBeUndefined();
  });
});
