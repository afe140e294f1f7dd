import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_CONFIG } from '../../src/config';
import { MediaType } from '../../src/oci/media-types';
import { descriptor, EMPTY_CONFIG, imageManifest, serialize } from '../support/oci';
import { startTestRegistry, type TestRegistry } from '../support/registry';

/**
 * GitHub's own client against Berth's /api/v3 (issue #15): the calls a cleanup
 * job makes, from a child `node` process (@octokit/rest is ESM-only) against a
 * registry listening on 127.0.0.1.
 */
const ADMIN_PASSWORD = 'admin-password-1';
let t: TestRegistry;
let server: Server;

beforeAll(async () => {
  t = await startTestRegistry({ auth: { ...DEFAULT_CONFIG.auth, mode: 'token', adminPassword: ADMIN_PASSWORD } });
  const alice = (req: ReturnType<TestRegistry['http']['get']>) => req.auth('alice', 'alice-password');
  expect(
    (await t.http.post('/api/v1/users').auth('admin', ADMIN_PASSWORD).send({ name: 'alice', password: 'alice-password' })).status,
  ).toBe(201);
  expect((await alice(t.http.post('/api/v1/orgs')).send({ name: 'acme' })).status).toBe(201);
  for (const name of ['acme/tools/many', 'alice/own']) {
    const res = await alice(t.http.post(`/v2/${name}/blobs/uploads/?digest=${EMPTY_CONFIG.digest}`))
      .set('Content-Type', 'application/octet-stream')
      .send(EMPTY_CONFIG.content);
    expect(res.status).toBe(201);
  }
  // 250 versions, every fifth tagged: more than two pages of 100.
  for (let i = 0; i < 250; i++) {
    const name = i === 0 ? 'alice/own' : 'acme/tools/many';
    const m = serialize(imageManifest({ config: descriptor(EMPTY_CONFIG, MediaType.OCI_CONFIG), annotations: { i: String(i) } }));
    const reference = i % 5 === 0 ? `v${i}` : m.digest;
    const res = await alice(t.http.put(`/v2/${name}/manifests/${reference}`))
      .set('Content-Type', m.mediaType)
      .serialize((body: Buffer) => body as unknown as string)
      .send(m.content);
    expect(res.status).toBe(201);
  }
  // The 250th version, so that tools/many holds exactly 250.
  const extra = serialize(
    imageManifest({ config: descriptor(EMPTY_CONFIG, MediaType.OCI_CONFIG), layers: [], annotations: { i: 'extra' } }),
  );
  await alice(t.http.put(`/v2/acme/tools/many/manifests/${extra.digest}`))
    .set('Content-Type', extra.mediaType)
    .serialize((body: Buffer) => body as unknown as string)
    .send(extra.content);
  server = createServer({ IncomingMessage: t.registry.app.IncomingMessage, ServerResponse: t.registry.app.ServerResponse }, t.registry.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
}, 120_000);
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await t.close();
});

it('lists, pages through 250 versions, filters, deletes and restores a version and a package', async () => {
  const { port } = server.address() as AddressInfo;
  const token = await t.http
    .post('/api/v1/tokens')
    .auth('alice', 'alice-password')
    .send({ name: 'cleanup', scopes: ['delete:packages'] });
  expect(token.status).toBe(201);
  const script = path.join(__dirname, 'github', 'octokit-client.mjs');
  const { stdout } = await promisify(execFile)(process.execPath, [script, `http://127.0.0.1:${port}/api/v3`, token.body.token as string], {
    timeout: 60_000,
  });
  const seen = JSON.parse(stdout) as Record<string, unknown>;
  expect(seen).toEqual({
    orgPackages: ['tools/many'],
    userPackages: ['own'],
    login: 'alice',
    pages: 3,
    versionCount: 250,
    distinctIds: 250,
    tagged: 49,
    untagged: 201,
    deleteStatus: 204,
    deletedIds: [seen.victimId],
    victimId: expect.any(Number),
    restoreStatus: 204,
    afterRestore: true,
    packageDeleteStatus: 204,
    afterPackageDelete: 404,
    packageRestoreStatus: 204,
    afterPackageRestore: 1,
  });
}, 120_000);
