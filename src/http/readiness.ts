import type { Request, Response } from 'express';

/** One dependency a replica needs to serve: a cheap probe that throws when it is unreachable. */
export interface ReadinessCheck {
  /** Shown in the /readyz answer, e.g. `redis`, `blob-storage`, `metadata-db`. */
  name: string;
  readonly probe: () => Promise<void>;
}

/** How long one probe may take before it counts as failed: a load balancer's probe must not hang. */
const PROBE_TIMEOUT_MS = 2_000;

/**
 * GET /readyz: runs every check at once (each bounded) and answers 200 when
 * all pass, else 503 naming the ones that failed. /healthz only says the
 * process is alive; this says it can do its work.
 */
export function readinessHandler(checks: ReadonlyArray<ReadinessCheck>, timeoutMs = PROBE_TIMEOUT_MS) {
  return async (req: Request, res: Response): Promise<void> => {
    const results = await Promise.all(
      checks.map(async ({ name, probe }) => {
        try {
          await withTimeout(probe(), timeoutMs, name);
          return { name, error: undefined };
        } catch (err) {
          return { name, error: describe(err) };
        }
      }),
    );
    const failed = results.filter((r) => r.error !== undefined).map((r) => r.name);
    const body = {
      status: failed.length === 0 ? 'ready' : 'unavailable',
      checks: Object.fromEntries(results.map((r) => [r.name, r.error ?? 'ok'])),
      ...(failed.length > 0 ? { failed } : {}),
    };
    if (failed.length > 0) req.log.warn({ failed, checks: body.checks }, 'not ready');
    res
      .status(failed.length === 0 ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json(body);
  };
}

function withTimeout(work: Promise<void>, ms: number, name: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function describe(err: unknown): string {
  const text = err instanceof Error ? err.message || err.name : String(err);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
