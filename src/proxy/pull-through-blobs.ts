import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { PassThrough, Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Logger } from '../log';
import type { MetadataIndex } from '../metadata/metadata-index';
import { parseDigest } from '../oci/digest';
import { BlobUnknown, DigestMismatch } from '../registry/errors';
import type { UploadService } from '../registry/upload-service';
import type { FetchLeases } from './fetch-leases';
import { UpstreamUnavailable } from './proxy-errors';
import type { ProxyMetrics } from './proxy-metrics';
import type { ProxyRoute, ProxyRoutes } from './proxy-routes';
import { teeWithHeldTail } from './tee-with-held-tail';
import { discard } from './upstream-client';
import type { UpstreamClients } from './upstream-clients';

/** A blob streaming from the upstream to the one client that asked first, as it is stored. */
export interface LiveBlob {
  size: number;
  body: Readable;
}

export interface PullThroughBlobsOptions {
  routes: ProxyRoutes;
  clients: UpstreamClients;
  /** The ordinary upload path: a monolithic upload verifies the digest, commits and links, or keeps nothing. */
  uploads: Pick<UploadService, 'monolithic'>;
  index: Pick<MetadataIndex, 'linkedBlobSize'>;
  leases: FetchLeases;
  metrics: ProxyMetrics;
  log: Logger;
  /** A lease not renewed for this long is free for another process; renewed at a third of it. */
  leaseTtlMs?: number;
  /** How often a process waiting on another's fetch looks again. */
  pollMs?: number;
}

/** One fetch of one blob into one repository, shared by every request for it in this process. */
interface Flight {
  /** The first caller's live stream, if it asked for one and this process is the one fetching; else null. */
  live: Promise<LiveBlob | null>;
  /** Settles once the blob is linked (by this process or another), or with why it could not be. */
  done: Promise<void>;
}

/**
 * Blobs of proxy repositories that are not stored yet, fetched from the upstream ONCE however many pull
 * them: in a process, one Flight per repository and digest; across workers and replicas, a lease row
 * (FetchLeases) that the fetching process holds while the others poll for the link to appear, then
 * serve from storage. Polling storage, not reading the fetcher's growing staged upload, because staged
 * bytes are not readable on every storage (S3 parts), and a waiting pull costs one query per poll.
 */
export class PullThroughBlobs {
  private readonly flights = new Map<string, Flight>();
  private readonly holder = `${os.hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
  private readonly leaseTtlMs: number;
  private readonly pollMs: number;

  constructor(private readonly options: PullThroughBlobsOptions) {
    this.leaseTtlMs = options.leaseTtlMs ?? 30_000;
    this.pollMs = options.pollMs ?? 200;
  }

  /** Counts a pull of a blob `repository` held as a hit, when it is a cache. */
  held(repository: string): void {
    if (this.options.routes.match(repository)) this.options.metrics.hit('blob');
  }

  /**
   * Prepares a pull of `digest` from `repository`. Null: serve it from storage like every other blob (it was
   * there, has been fetched, or the repository is no proxy's). A LiveBlob: this caller, having asked for
   * `live`, streams the upstream's bytes as they are stored.
   */
  async fill(repository: string, digestParam: string, live: boolean): Promise<LiveBlob | null> {
    const route = this.options.routes.match(repository);
    if (!route) return null;
    const digest = parseDigest(digestParam).value;
    // Linked since the caller looked (a fill that just finished): served as held.
    if ((await this.options.index.linkedBlobSize(repository, digest)) !== null) {
      this.options.metrics.hit('blob');
      return null;
    }
    this.options.metrics.miss('blob');
    const key = `${repository}@${digest}`;
    let flight = this.flights.get(key);
    let first = false;
    if (!flight) {
      flight = this.fly(route, repository, digest, live);
      this.flights.set(key, flight);
      void flight.done.catch(() => undefined).finally(() => this.flights.delete(key));
      first = true;
    }
    if (first) {
      const stream = await flight.live;
      if (stream) return stream;
    }
    await flight.done;
    return null;
  }

  private fly(route: ProxyRoute, repository: string, digest: string, live: boolean): Flight {
    let offer: (blob: LiveBlob | null) => void = () => undefined;
    const offered = new Promise<LiveBlob | null>((resolve) => (offer = resolve));
    const done = (async () => {
      try {
        for (;;) {
          if ((await this.options.index.linkedBlobSize(repository, digest)) !== null) return;
          if (await this.options.leases.acquire(repository, digest, this.holder, Date.now(), this.leaseTtlMs)) {
            // Looked again under the lease: a holder links before it releases, so a lease taken just after
            // another process's release finds the link here (a CI run with two replicas fetched twice without it).
            if ((await this.options.index.linkedBlobSize(repository, digest)) !== null) {
              await this.options.leases.release(repository, digest, this.holder);
              return;
            }
            await this.fetch(route, repository, digest, live ? offer : null);
            return;
          }
          await this.waitForOther(repository, digest);
        }
      } finally {
        offer(null);
      }
    })();
    // The live promise never rejects: a failure reaches the caller through `done`.
    return { live: offered, done };
  }

  /** Polls while another process holds the lease and the blob is not linked yet. */
  private async waitForOther(repository: string, digest: string): Promise<void> {
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
      if ((await this.options.index.linkedBlobSize(repository, digest)) !== null) return;
      if (!(await this.options.leases.held(repository, digest, Date.now()))) return;
    }
  }

  /** Fetches under the lease: streamed into a monolithic upload (and to `offer`'s client), then released. */
  private async fetch(
    route: ProxyRoute,
    repository: string,
    digest: string,
    offer: ((blob: LiveBlob | null) => void) | null,
  ): Promise<void> {
    const { leases, metrics, log } = this.options;
    const renewal = setInterval(
      () => {
        leases.renew(repository, digest, this.holder, Date.now(), this.leaseTtlMs).then(
          (kept) => kept || log.warn({ repository, digest }, 'lost the upstream fetch lease (renewal came too late)'),
          (err: unknown) => log.warn({ err, repository, digest }, 'renewing the upstream fetch lease failed'),
        );
      },
      Math.max(1, Math.floor(this.leaseTtlMs / 3)),
    );
    try {
      const res = await this.options.clients.for(route.upstream).request('GET', route.remoteName, `blobs/${digest}`, {
        // The stored bytes are the ones digested: no transparent decompression on the way.
        'Accept-Encoding': 'identity',
      });
      if (res.status === 404) {
        await discard(res);
        throw new BlobUnknown({ digest });
      }
      if (!res.ok || !res.body) {
        await discard(res);
        throw new UpstreamUnavailable({ upstream: route.upstream.url, status: res.status, reason: 'the blob could not be fetched' });
      }
      const length = res.headers.get('content-length');
      const size = length !== null && /^\d+$/.test(length) ? Number(length) : null;
      const source = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
      const storage = new PassThrough();
      // Only with a known length: the client's Content-Length is promised before the first byte.
      const client = offer && size !== null ? new PassThrough() : null;
      const committed = this.options.uploads.monolithic(repository, digest, storage).catch((err: unknown) => {
        // The upstream's bytes are not what it was asked for: its fault, not the puller's.
        if (err instanceof DigestMismatch) throw new UpstreamUnavailable({ upstream: route.upstream.url, digest, reason: err.message });
        throw err;
      });
      if (client && size !== null) offer?.({ size, body: client });
      await teeWithHeldTail(source, storage, client, committed, (bytes) => metrics.fetched(bytes));
    } finally {
      clearInterval(renewal);
      await leases
        .release(repository, digest, this.holder)
        .catch((err: unknown) => log.warn({ err, repository, digest }, 'releasing the upstream fetch lease failed'));
    }
  }
}
