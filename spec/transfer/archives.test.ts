import { createGzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { extract, pack } from 'tar-stream';
import { MediaType } from '../../src/oci/media-types';
import { blob, descriptor, imageIndex, imageManifest, serialize, type TestBlob } from '../support/oci';
import { startTestRegistry, type TestRegistry } from '../support/registry';
import { addUser, basic, startAuthRegistry } from '../auth/support/auth-registry';

/**
 * Image archive import and export over HTTP (issue #21): OCI layouts as tars, gzipped or not, in and out;
 * bad archives refused with 400 and nothing of them left in the repository.
 */
let t: TestRegistry;
beforeAll(async () => {
  t = await startTestRegistry();
});
afterAll(() => t.close());

interface Entry {
  name: string;
  content?: Buffer;
  type?: 'file' | 'symlink' | 'directory';
  linkname?: string;
  size?: number;
}

async function tarOf(entries: Entry[], options: { gzip?: boolean; truncateTo?: number } = {}): Promise<Buffer> {
  const p = pack();
  // Read while writing: the pack holds back an entry's callback until its bytes are consumed.
  const source = options.gzip ? Readable.from(p).pipe(createGzip()) : Readable.from(p);
  const collected = (async () => {
    const chunks: Buffer[] = [];
    for await (const c of source) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  })();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const header = { name: e.name, type: e.type ?? 'file', linkname: e.linkname, size: e.size ?? e.content?.length ?? 0 };
      p.entry(header, e.content ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    });
  }
  p.finalize();
  const whole = await collected;
  return options.truncateTo === undefined ? whole : whole.subarray(0, options.truncateTo);
}

const blobEntry = (b: TestBlob): Entry => ({ name: `blobs/${b.digest.replace(':', '/')}`, content: b.content });

/** A two-platform image as an OCI layout: the index tagged `tag`, the platform images and their blobs. */
function layout(seed: string, tag = 'v1') {
  const config = blob(`{"architecture":"amd64","os":"linux","seed":"${seed}"}`);
  const layers = [blob(`layer one ${seed}`), blob(Buffer.alloc(6 * 1024 * 1024, seed))]; // the second is streamed, not held
  const amd = serialize(
    imageManifest({
      config: descriptor(config, MediaType.OCI_CONFIG),
      layers: layers.map((l) => descriptor(l, 'application/vnd.oci.image.layer.v1.tar')),
    }),
  );
  const arm = serialize(
    imageManifest({
      config: descriptor(config, MediaType.OCI_CONFIG),
      layers: [descriptor(layers[0]!, 'application/vnd.oci.image.layer.v1.tar')],
    }),
  );
  const index = serialize(
    imageIndex([
      amd.descriptor({ platform: { os: 'linux', architecture: 'amd64' } }),
      arm.descriptor({ platform: { os: 'linux', architecture: 'arm64' } }),
    ]),
  );
  const indexJson = Buffer.from(
    JSON.stringify({ schemaVersion: 2, manifests: [{ ...index.descriptor(), annotations: { 'org.opencontainers.image.ref.name': tag } }] }),
  );
  const entries: Entry[] = [
    { name: 'oci-layout', content: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
    { name: 'blobs', type: 'directory' },
    ...layers.map(blobEntry),
    blobEntry(config),
    { name: `blobs/${amd.digest.replace(':', '/')}`, content: amd.content },
    { name: `blobs/${arm.digest.replace(':', '/')}`, content: arm.content },
    { name: `blobs/${index.digest.replace(':', '/')}`, content: index.content },
    { name: 'index.json', content: indexJson },
  ];
  return { entries, config, layers, amd, arm, index };
}

const importInto = (name: string, archive: Buffer, tag?: string) => {
  const req = t.http.post(`/api/v1/packages/${name}/import`).attach('archive', archive, 'image.tar');
  return tag === undefined ? req : req.field('tag', tag);
};
const linked = async (name: string, digest: string) => (await t.http.head(`/v2/${name}/blobs/${digest}`)).status;

describe('import', () => {
  it.each([false, true])('an OCI layout (gzip %p): every manifest, blob and tag arrives, byte for byte', async (gzip) => {
    const name = `imports/plain-${gzip}`;
    const l = layout(`import ${gzip}`);
    const res = await importInto(name, await tarOf(l.entries, { gzip }));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      repository: name,
      images: [{ digest: l.index.digest, mediaType: MediaType.OCI_INDEX, tags: ['v1'] }],
      blobs: { uploaded: 3, alreadyPresent: 0 },
    });
    const got = await t.http.get(`/v2/${name}/manifests/v1`).set('Accept', MediaType.OCI_INDEX);
    expect(got.headers['docker-content-digest']).toBe(l.index.digest);
    for (const m of [l.amd, l.arm])
      expect((await t.http.get(`/v2/${name}/manifests/${m.digest}`).set('Accept', MediaType.OCI_MANIFEST)).status).toBe(200);
    const big = await t.http
      .get(`/v2/${name}/blobs/${l.layers[1]!.digest}`)
      .buffer(true)
      .parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c)).on('end', () => cb(null, Buffer.concat(chunks)));
      });
    expect(Buffer.compare(big.body as Buffer, l.layers[1]!.content)).toBe(0);
  });

  it('a legacy docker-archive (Docker before 25): a schema 2 manifest over the same config and layers, tagged as saved', async () => {
    const config = blob('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    const layers = [blob('small layer tar'), blob(Buffer.alloc(5 * 1024 * 1024, 'L'))];
    const hex = (b: TestBlob) => b.digest.slice('sha256:'.length);
    const entries: Entry[] = [
      ...layers.flatMap((l): Entry[] => [
        { name: `${hex(l)}/`, type: 'directory' },
        { name: `${hex(l)}/VERSION`, content: Buffer.from('1.0') },
        { name: `${hex(l)}/layer.tar`, content: l.content },
      ]),
      { name: `${hex(config)}.json`, content: config.content },
      {
        name: 'manifest.json',
        content: Buffer.from(
          JSON.stringify([{ Config: `${hex(config)}.json`, RepoTags: ['local/base:1'], Layers: layers.map((l) => `${hex(l)}/layer.tar`) }]),
        ),
      },
      { name: 'repositories', content: Buffer.from('{"local/base":{"1":"x"}}') },
    ];
    const res = await importInto('imports/legacy', await tarOf(entries));
    expect(res.status).toBe(201);
    expect(res.body.images).toEqual([{ digest: expect.stringMatching(/^sha256:/), mediaType: MediaType.DOCKER_MANIFEST, tags: ['1'] }]);
    const got = await t.http.get('/v2/imports/legacy/manifests/1').set('Accept', MediaType.DOCKER_MANIFEST);
    const manifest = JSON.parse(got.text) as {
      config: { digest: string };
      layers: Array<{ digest: string; size: number; mediaType: string }>;
    };
    expect(manifest.config.digest).toBe(config.digest); // the image id docker save was given
    expect(manifest.layers).toEqual(
      layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar', digest: l.digest, size: l.content.length })),
    );
    for (const b of [config, ...layers]) expect(await linked('imports/legacy', b.digest)).toBe(200);
  });

  it('a tag from the form replaces the archive’s', async () => {
    const l = layout('form tag');
    expect((await importInto('imports/form', await tarOf(l.entries), 'from-form')).status).toBe(201);
    expect((await t.http.head('/v2/imports/form/manifests/from-form').set('Accept', MediaType.OCI_INDEX)).status).toBe(200);
    expect((await t.http.head('/v2/imports/form/manifests/v1').set('Accept', MediaType.OCI_INDEX)).status).toBe(404);
  });

  const l = layout('refused');
  const withoutBigLayer = l.entries.filter((e) => e.name !== blobEntry(l.layers[1]!).name);
  const wrongContent = l.entries.map((e) =>
    e.name === blobEntry(l.layers[1]!).name ? { ...e, content: Buffer.alloc(e.content!.length, 'x') } : e,
  );
  it.each([
    ['a truncated tar', () => tarOf(l.entries, { truncateTo: 3 * 1024 * 1024 }), /damaged|end/],
    ['an entry climbing out with ..', () => tarOf([{ name: '../../etc/passwd', content: Buffer.from('x') }, ...l.entries]), /outside/],
    ['an absolute entry name', () => tarOf([{ name: '/etc/passwd', content: Buffer.from('x') }, ...l.entries]), /outside/],
    ['a symlink', () => tarOf([...l.entries.slice(0, 3), { name: 'blobs/link', type: 'symlink', linkname: '/etc/passwd' }]), /symlink/],
    ['a manifest naming a missing layer', () => tarOf(withoutBigLayer), /neither in the archive/],
    ['a blob whose content is not its name’s digest', () => tarOf(wrongContent), /digest/i],
    ['no index.json', () => tarOf(l.entries.filter((e) => e.name !== 'index.json')), /index\.json/],
    ['something that is not a tar', async () => Buffer.from('hello, not a tar at all'.repeat(100)), /damaged|index\.json|tar/i],
  ])('refuses %s with 400, leaving nothing behind', async (_what, archive, message) => {
    const name = `imports/refused-${Math.random().toString(36).slice(2, 8)}`;
    const res = await importInto(name, await archive());
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toMatch(message);
    for (const b of [l.config, ...l.layers]) expect(await linked(name, b.digest)).toBe(404);
    expect((await t.http.get(`/v2/${name}/tags/list`)).body.tags ?? []).toEqual([]);
  });

  it('refuses a gzip bomb (bounded expansion) with 400', async () => {
    // 200 MiB of zeros compresses to ~200 KiB: far past 100 times (plus 64 MiB) once expanded.
    async function* zeros() {
      for (let i = 0; i < 200; i++) yield Buffer.alloc(1024 * 1024);
    }
    const chunks: Buffer[] = [];
    for await (const c of Readable.from(zeros()).pipe(createGzip())) chunks.push(c as Buffer);
    const res = await importInto('imports/bomb', Buffer.concat(chunks));
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toMatch(/gzip bomb|damaged/);
  });
});

describe('export', () => {
  it('oci-archive: the layout of what was imported, same digests; docker-archive: one platform and manifest.json', async () => {
    const l = layout('export');
    expect((await importInto('exports/app', await tarOf(l.entries))).status).toBe(201);
    const oci = await download('/api/v1/packages/exports/app/export?reference=v1&format=oci-archive');
    expect(oci.status).toBe(200);
    expect(oci.headers['content-type']).toBe('application/x-tar');
    const files = await untar(oci.body);
    const index = JSON.parse(files.get('index.json')!.toString('utf8'));
    expect(index.manifests).toEqual([
      expect.objectContaining({ digest: l.index.digest, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }),
    ]);
    for (const b of [l.config, ...l.layers]) expect(Buffer.compare(files.get(`blobs/${b.digest.replace(':', '/')}`)!, b.content)).toBe(0);
    for (const m of [l.index, l.amd, l.arm]) expect(files.has(`blobs/${m.digest.replace(':', '/')}`)).toBe(true);

    const docker = await download('/api/v1/packages/exports/app/export?reference=v1&format=docker-archive&platform=linux/amd64');
    const dfiles = await untar(docker.body);
    expect(JSON.parse(dfiles.get('manifest.json')!.toString('utf8'))).toEqual([
      {
        Config: `blobs/${l.config.digest.replace(':', '/')}`,
        RepoTags: ['exports/app:v1'],
        Layers: l.layers.map((b) => `blobs/${b.digest.replace(':', '/')}`),
      },
    ]);
    expect(dfiles.has(`blobs/${l.index.digest.replace(':', '/')}`)).toBe(false);
    // Round trip: the exported archive imports again, into another package, with the same digests.
    const again = await importInto('exports/copy', oci.body);
    expect(again.body.images).toEqual([{ digest: l.index.digest, mediaType: MediaType.OCI_INDEX, tags: ['v1'] }]);
  });

  it('answers 404 for an unknown tag, 400 for a bad format or a platform the index lacks', async () => {
    expect((await t.http.get('/api/v1/packages/exports/app/export?reference=nope')).status).toBe(404);
    expect((await t.http.get('/api/v1/packages/exports/app/export?reference=v1&format=zip')).status).toBe(400);
    expect((await t.http.get('/api/v1/packages/exports/app/export?reference=v1&format=docker-archive&platform=linux/s390x')).status).toBe(
      400,
    );
  });
});

function download(path: string) {
  return t.http
    .get(path)
    .buffer(true)
    .parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c)).on('end', () => cb(null, Buffer.concat(chunks)));
    }) as unknown as Promise<{ status: number; headers: Record<string, string>; body: Buffer }>;
}

async function untar(archive: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const x = extract();
  Readable.from([archive]).pipe(x);
  for await (const entry of x) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    files.set(entry.header.name, Buffer.concat(chunks));
  }
  return files;
}

describe('with token auth', () => {
  it('import needs push rights on the package, export pull rights; private packages stay hidden', async () => {
    const a = await startAuthRegistry();
    try {
      await addUser(a.identities, 'alice');
      await addUser(a.identities, 'bob');
      const archive = await tarOf(layout('auth').entries);
      const post = (name: string) => a.http.post(`/api/v1/packages/${name}/import`).attach('archive', archive, 'image.tar');
      expect((await post('alice/app')).status).toBe(401);
      expect((await post('alice/app').set('Authorization', basic('bob', 'bob-password'))).status).toBe(403);
      expect((await post('alice/app').set('Authorization', basic('alice', 'alice-password'))).status).toBe(201);
      const exportAs = (auth: string | null) => {
        const req = a.http.get('/api/v1/packages/alice/app/export?reference=v1');
        return auth === null ? req : req.set('Authorization', auth);
      };
      expect((await exportAs(basic('alice', 'alice-password'))).status).toBe(200);
      expect([401, 403, 404]).toContain((await exportAs(basic('bob', 'bob-password'))).status);
      expect((await exportAs(null)).status).toBe(401);
    } finally {
      await a.close();
    }
  });
});
