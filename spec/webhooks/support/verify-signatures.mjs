// Reads {secret, deliveries: [{body, signature}]} on stdin and prints, for each delivery, whether
// GitHub's own verification (@octokit/webhooks-methods, as @octokit/webhooks uses it) accepts it.
import { verify } from '@octokit/webhooks-methods';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const { secret, deliveries } = JSON.parse(input);
const results = [];
for (const d of deliveries) results.push(d.signature ? await verify(secret, d.body, d.signature) : false);
process.stdout.write(JSON.stringify(results));
