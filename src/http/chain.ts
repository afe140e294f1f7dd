import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Runs Express-style middleware in order, without Express's router: the
 * registry's hot path has a fixed sequence of steps and needs no path
 * matching between them. `next(err)` or a throw or rejection from a step
 * goes to `onError`; a step that neither answers nor calls `next` ends there.
 */
export function chain(steps: ReadonlyArray<RequestHandler>, onError: ErrorRequestHandler): (req: Request, res: Response) => void {
  return (req, res) => {
    let failed = false;
    const fail = (err: unknown) => {
      // A step may reject after it already passed an error on: report the first only.
      if (failed) return;
      failed = true;
      try {
        onError(err, req, res, ignore);
      } catch {
        // The error renderer itself failed: nothing sensible can be written any more.
        res.destroy();
      }
    };
    const run = (i: number): void => {
      const step = steps[i];
      if (!step) return;
      const next: NextFunction = (err?: unknown) => {
        if (err !== undefined && err !== null && err !== 'route' && err !== 'router') fail(err);
        else run(i + 1);
      };
      try {
        const result: unknown = step(req, res, next);
        if (result instanceof Promise) result.catch(fail);
      } catch (err) {
        fail(err);
      }
    };
    run(0);
  };
}

const ignore: NextFunction = () => undefined;
