import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { extract, pack } from 'tar-stream';
import { runTransferCommand } from '../src/cli/transfer-commands';
import { MediaType } from '../src/oci/media-types';
import { blob, descriptor, imageManifest, serialize } from './support/oci';
import { prepareTestConfig, type TestSetup } from './support/registry';

/** `berth import` and `berth export` on a data directory (or the configured database and storage), as the CLI runs them. */
let setup: TestSetup;
let dir: string;
beforeEach(async () => {
  setup = await prepareTestConfig({}, 'berth-cli-archives-');
  dir = mkdtempSync(path.join(tmpdir(), 'berth-archive-files-'));
});
afterEach(async () => {
  rmSync(dir, { recursive: true, force: true });
  await setup.dispose();
});

async function berth(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runTransferCommand(args, {
    env: { ...setup.env, BERTH_LOG_LEVEL: 'silent' },
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    readStdin: async () => '',
  });
  return { code, stdout, stderr };
}

/** One image as an OCI layout tar, tagged `saved`. */
async function layoutTar(): Promise<{ file: string; digest: string }> {
  const config = blob('{"architecture":"amd64","os":"linux","cli":true}');
  const layer = blob('a layer for the cli');
  const m = serialize(
    imageManifest({
      config: descriptor(config, MediaType.OCI_CONFIG),
      layers: [descriptor(layer, 'application/vnd.oci.image.layer.v1.tar')],
    }),
  );
  const index = { schemaVersion: 2, manifests: [{ ...m.descriptor(), annotations: { 'org.opencontainers.image.ref.name': 'saved' } }] };
  const p = pack();
  const collected = (async () => {
    const chunks: Buffer[] = [];
    for await (const c of Readable.from(p)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  })();
  for (const [name, content] of [
    ['oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')],
    ...[config, layer].map((b) => [`blobs/${b.digest.replace(':', '/')}`, b.content] as const),
    [`blobs/${m.digest.replace(':', '/')}`, m.content],
    ['index.json', Buffer.from(JSON.stringify(index))],
  ] as Array<[string, Buffer]>) {
    await new Promise<void>((resolve, reject) =>
      p.entry({ name, size: content.length }, content, (err) => (err ? reject(err) : resolve())),
    );
  }
  p.finalize();
  const file = path.join(dir, 'image.tar');
  writeFileSync(file, await collected);
  return { file, digest: m.digest };
}

async function tarNames(file: string): Promise<string[]> {
  const names: string[] = [];
  const x = extract();
  Readable.from([readFileSync(file)]).pipe(x);
  for await (const entry of x) {
    names.push(entry.header.name);
    entry.resume();
  }
  return names.sort();
}

describe('berth import / export', () => {
  it('imports an archive under a tag, exports it again by tag and by digest', async () => {
    const { file, digest } = await layoutTar();
    const imported = await berth('import', file, 'cli/app:from-cli');
    expect(imported).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(imported.stdout)).toMatchObject({ repository: 'cli/app', images: [{ digest, tags: ['from-cli'] }] });
    const out = path.join(dir, 'out.tar');
    expect(await berth('export', 'cli/app:from-cli', out)).toMatchObject({ code: 0 });
    expect(await tarNames(out)).toEqual(expect.arrayContaining(['index.json', 'oci-layout', `blobs/${digest.replace(':', '/')}`]));
    const docker = path.join(dir, 'docker.tar');
    expect(await berth('export', `cli/app@${digest}`, docker, '--format', 'docker-archive')).toMatchObject({ code: 0 });
    expect(await tarNames(docker)).toContain('manifest.json');
    const promoted = await berth('promote', 'cli/app:from-cli', 'cli/release:1.0', '--referrers');
    expect(promoted.code).toBe(0);
    expect(JSON.parse(promoted.stdout)).toMatchObject({ digest, target: 'cli/release:1.0', blobsMounted: 2 });
    expect(await berth('export', 'cli/release:1.0', path.join(dir, 'release.tar'))).toMatchObject({ code: 0 });
    expect((await berth('promote', 'cli/app:from-cli', `cli/release@${digest}`)).code).toBe(2); // a target needs a tag
    expect((await berth('promote', 'cli/app:nope', 'cli/release:2')).code).toBe(1);
  });

  it('exit 1 for a refused archive, a missing file or an unknown image (no partial file); 2 for wrong usage', async () => {
    writeFileSync(path.join(dir, 'junk.tar'), 'not an archive');
    expect((await berth('import', path.join(dir, 'junk.tar'), 'cli/app')).code).toBe(1);
    expect((await berth('import', path.join(dir, 'missing.tar'), 'cli/app')).code).toBe(1);
    const out = path.join(dir, 'nothing.tar');
    const unknown = await berth('export', 'cli/app:nope', out);
    expect(unknown.code).toBe(1);
    expect(existsSync(out) || existsSync(`${out}.partial`)).toBe(false);
    expect((await berth('import', 'only-one-argument')).code).toBe(2);
    expect((await berth('export', 'cli/app', out)).code).toBe(2); // a tag or digest is needed
    expect((await berth('export', 'cli/app:v1', out, '--format', 'zip')).code).toBe(2);
  });
});
