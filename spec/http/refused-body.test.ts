import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createLogger } from '../../src/log';
import { startServer, type RunningServer } from '../../src/server';
import { prepareTestConfig, type TestSetup } from '../support/registry';

/**
 * A chunk refused before its body is read (416) must reach a client that is still
 * sending it, also when the client asked for `Connection: close`. Before the lingering
 * close in src/http/middleware/errors.ts, 10 of 100 such 8 MiB chunks here ended in
 * EPIPE/ECONNRESET instead of the 416; 60 tries make a pass by luck about 1 in 500.
 */
let setup: TestSetup;
let running: RunningServer;
let base: string;

// The server as `berth serve` runs it (src/server.ts): its options decide how a connection ends.
beforeAll(async () => {
  setup = await prepareTestConfig({ addr: '127.0.0.1:0' }, 'berth-refused-');
  running = await startServer(setup.config, createLogger('silent'));
  base = running.url;
});

afterAll(async () => {
  await running.stop();
  await setup.dispose();
});

/**
 * The client, in a process of its own: with client and server on one event loop the
 * reset never shows. Each PATCH on a connection of its own (`agent: false` sends
 * `Connection: close`); prints one outcome per chunk: the status and error code, or the
 * socket error.
 */
const CLIENT = `
const http = require('node:http');
const [base, tries] = process.argv.slice(1);
const chunk = Buffer.alloc(8 * 1024 * 1024, 7);
function send(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, base), { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
(async () => {
  const outcomes = [];
  for (let i = 0; i < Number(tries); i++) {
    const post = await send('POST', '/v2/refused/body/blobs/uploads/', { 'Content-Length': '0' });
    const headers = {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(chunk.length),
      'Content-Range': '100-' + (100 + chunk.length - 1),
    };
    outcomes.push(
      await send('PATCH', post.headers.location, headers, chunk).then(
        (res) => res.status + ' ' + JSON.parse(res.body).errors[0].code,
        (err) => String(err.code || err.message),
      ),
    );
  }
  console.log(JSON.stringify(outcomes));
})();
`;

async function runClient(tries: number): Promise<string[]> {
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', CLIENT, base, String(tries)], { timeout: 100_000 });
  return JSON.parse(stdout) as string[];
}

it('answers every out-of-order 8 MiB chunk with its 416, none with a reset connection', async () => {
  const outcomes = await runClient(60);
  expect(outcomes).toHaveLength(60);
  expect(outcomes.filter((o) => o !== '416 BLOB_UPLOAD_INVALID')).toEqual([]);
}, 120_000);
