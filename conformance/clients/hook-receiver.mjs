// A webhook receiver written the way GitHub's users write theirs: @octokit/webhooks' Node middleware, which
// checks each delivery's X-Hub-Signature-256 against the secret and answers 400 to any that fails, then hands the
// verified event to the app. This app appends each one as a JSON line ({id, name, payload}) to OUT_FILE.
//
//   node hook-receiver.mjs SECRET OUT_FILE PORT_FILE     (listens on 127.0.0.1, a free port written to PORT_FILE)
import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createNodeMiddleware, Webhooks } from '@octokit/webhooks';

const [secret, outFile, portFile] = process.argv.slice(2);
if (!secret || !outFile || !portFile) {
  console.error('usage: hook-receiver.mjs SECRET OUT_FILE PORT_FILE');
  process.exit(2);
}
const webhooks = new Webhooks({ secret });
webhooks.onAny(({ id, name, payload }) => appendFileSync(outFile, `${JSON.stringify({ id, name, payload })}\n`));
const middleware = createNodeMiddleware(webhooks, {
  path: '/hook',
  log: { debug() {}, info() {}, warn: console.warn, error: console.error },
});
const server = createServer(async (req, res) => {
  if (await middleware(req, res)) return;
  res.writeHead(404).end();
});
server.listen(0, '127.0.0.1', () => writeFileSync(portFile, String(server.address().port)));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
