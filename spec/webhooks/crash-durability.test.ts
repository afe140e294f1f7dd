import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { MediaType } from '../../src/oci/media-types';
import { blob, descriptor, imageManifest, serialize } from '../support/oci';
import { prepareTestConfig, type TestSetup } from '../support/registry';
import { HookReceiver } from './support/hook-receiver';

/**
 * Issue #16's durability proof: Berth (the built CLI, a real process) is killed with SIGKILL while
 * 100 `package` events are not yet delivered (the receiver is down); after a restart on the same
 * data, the receiver gets each event exactly once.
 */
const REPO_ROOT = path.join(__dirname, '..', '..');
const CLI = process.env.BERTH_E2E_CLI ?? path.join(REPO_ROOT, 'dist', 'cli.js');
const ADMIN = 'admin-password-1';
const EVENTS = 100;

let setup: TestSetup;
let receiver: HookReceiver;
const children: ChildProcess[] = [];

beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} does not exist: run \`npm run build\` first`);
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await receiver?.close();
  await setup?.dispose();
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** `berth serve`, one process, on the test's data and backend; resolves once it answers /healthz. */
async function serve(port: number): Promise<ChildProcess> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(BERTH_|REDIS_|S3_|DATABASE_URL$)/.test(k)));
  const child = spawn(process.execPath, [CLI, 'serve'], {
    cwd: REPO_ROOT,
    env: {
      ...env,
      ...setup.env,
      BERTH_ADDR: `127.0.0.1:${port}`,
      BERTH_WORKERS: '1',
      BERTH_ADMIN_PASSWORD: ADMIN,
      BERTH_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      BERTH_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return child;
    } catch {
      /* not listening yet */
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('berth did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function call(base: string, method: string, url: string, body?: Buffer | object, contentType = 'application/json') {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { Authorization: basic('admin', ADMIN), 'Content-Type': contentType },
    body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return res;
}

it(`delivers each of ${EVENTS} events exactly once after a SIGKILL and a restart`, async () => {
  setup = await prepareTestConfig({}, 'berth-crash-');
  receiver = new HookReceiver();
  const receiverPort = await freePort();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const first = await serve(port);

  await call(base, 'POST', '/api/v1/orgs', { name: 'acme' });
  await call(base, 'POST', '/api/v3/orgs/acme/hooks', {
    config: { url: `http://127.0.0.1:${receiverPort}/hook`, content_type: 'json' },
    events: ['package'],
  });
  const config = blob('{"architecture":"amd64","os":"linux"}');
  await call(base, 'POST', `/v2/acme/app/blobs/uploads/?digest=${config.digest}`, config.content, 'application/octet-stream');
  // Ten at a time, so that the kill comes before any first attempt (the receiver is down, so it
  // fails at once) is retried: a second failure would put the next attempt 5 minutes away.
  const pushStarted = Date.now();
  for (let at = 0; at < EVENTS; at += 10) {
    await Promise.all(
      Array.from({ length: 10 }, (_, j) => {
        const m = serialize(imageManifest({ config: descriptor(config, MediaType.OCI_CONFIG), annotations: { i: String(at + j) } }));
        return call(base, 'PUT', `/v2/acme/app/manifests/v${at + j}`, m.content, m.mediaType);
      }),
    );
  }
  const pushMs = Date.now() - pushStarted;
  // Killed with the receiver down: every event is queued or not yet relayed, none delivered.
  first.kill('SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));
  expect(receiver.received).toHaveLength(0);

  await receiver.start(receiverPort);
  await serve(port);
  // Failed first attempts are retried after 5 s; a lease held at the kill expires after 40 s.
  const deadline = Date.now() + 90_000;
  while (receiver.ofEvent('package').length < EVENTS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const events = receiver.ofEvent('package');
  const guids = events.map((e) => e.headers['x-github-delivery']);
  const tags = events.map(
    (e) =>
      (JSON.parse(e.body) as { package: { package_version: { container_metadata: { tag: { name: string } } } } }).package.package_version
        .container_metadata.tag.name,
  );
  expect(pushMs).toBeLessThan(4_500);
  expect(new Set(guids).size).toBe(guids.length);
  expect(new Set(tags).size).toBe(tags.length);
  expect(tags.sort()).toEqual(Array.from({ length: EVENTS }, (_, i) => `v${i}`).sort());
}, 150_000);
