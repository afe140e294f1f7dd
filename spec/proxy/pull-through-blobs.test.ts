import { createLogger } from '../../src/log';
import type { FetchLeases } from '../../src/proxy/fetch-leases';
import { PullThroughBlobs } from '../../src/proxy/pull-through-blobs';
import { ProxyRoutes } from '../../src/proxy/proxy-routes';
import type { UpstreamClients } from '../../src/proxy/upstream-clients';
import { sha256 } from '../support/oci';

const digest = sha256('a layer');
const upstream = { prefix: 'up', url: 'http://127.0.0.1:1', tagTtlSeconds: 300, access: 'signed-in' as const };

/**
 * The window between "not linked yet" and "lease taken": another process links the blob and releases
 * its lease in it. The index below answers "not linked" until the lease is taken, then "linked", which
 * is that interleaving made certain.
 */
function blobsRacingAnotherProcess(): { blobs: PullThroughBlobs; upstreamRequests: () => number; released: string[] } {
  let leaseTaken = false;
  let requests = 0;
  const released: string[] = [];
  const leases: FetchLeases = {
    acquire: () => {
      leaseTaken = true;
      return Promise.resolve(true);
    },
    renew: () => Promise.resolve(true),
    release: (repository, d) => {
      released.push(`${repository}@${d}`);
      return Promise.resolve();
    },
    held: () => Promise.resolve(leaseTaken),
  };
  const clients = {
    for: () => ({
      request: () => {
        requests += 1;
        return Promise.reject(new Error('the upstream was asked for a blob another process had linked'));
      },
    }),
  } as unknown as UpstreamClients;
  const blobs = new PullThroughBlobs({
    routes: new ProxyRoutes([upstream]),
    clients,
    uploads: { monolithic: () => Promise.reject(new Error('nothing should be stored')) },
    index: { linkedBlobSize: () => Promise.resolve(leaseTaken ? 7 : null) },
    leases,
    metrics: { hit: () => undefined, miss: () => undefined, fetched: () => undefined },
    log: createLogger('silent'),
  });
  return { blobs, upstreamRequests: () => requests, released };
}

describe('PullThroughBlobs', () => {
  it('does not fetch a blob that another process linked between its look and its lease', async () => {
    const { blobs, upstreamRequests, released } = blobsRacingAnotherProcess();
    await expect(blobs.fill('up/alice/app', digest, true)).resolves.toBeNull();
    expect(upstreamRequests()).toBe(0);
    expect(released).toEqual([`up/alice/app@${digest}`]);
  });
});
