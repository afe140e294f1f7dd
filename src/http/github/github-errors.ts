import type { NextFunction, Request, Response } from 'express';
import { DomainError } from '../../domain-error';
import { errorAnswer } from '../error-mapping';
import { GitHubBadRequest } from './github-edge-errors';

/** GitHub's documentation root: every error names it, as GitHub's do. */
export const DOCUMENTATION_URL = 'https://docs.github.com/rest/packages/packages';

/**
 * The status GitHub gives what error-mapping.ts decided: its 4xx stand, except
 * that a refusal over state (409: a version still needed, a restore blocked)
 * and invalid input are 422 "Validation Failed", as GitHub answers both.
 */
export function githubStatus(err: unknown): { status: number; headers: Record<string, string>; log: 'error' | 'warn' | null } {
  if (err instanceof GitHubBadRequest) return { status: 400, headers: {}, log: null };
  const answer = errorAnswer(err, 'management');
  const status = answer.status === 409 || answer.code === 'REQUEST_INVALID' ? 422 : answer.status;
  return { status, headers: answer.headers, log: answer.log };
}

/** GitHub's error body, `{"message","documentation_url"}`, on every failure under /api/v3. */
export function renderGitHubErrors() {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const { status, headers, log } = githubStatus(err);
    if (log === 'error') req.log.error({ err }, 'request failed');
    else if (log === 'warn') req.log.warn({ err }, 'storage fault');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const message = status >= 500 ? 'Server Error' : messageOf(err, status);
    res.status(status).set(headers).json({ message, documentation_url: DOCUMENTATION_URL });
  };
}

const GENERIC: Record<number, string> = {
  400: 'Bad Request',
  401: 'Requires authentication',
  403: 'Must have admin rights to Repository.',
  404: 'Not Found',
  422: 'Validation Failed',
};

/** The refusal's own sentence where it has one (the names in it passed the OCI grammar), else GitHub's. */
function messageOf(err: unknown, status: number): string {
  if (err instanceof DomainError) {
    const detail = err.detail;
    if (typeof detail === 'string') return detail;
    if (typeof detail.reason === 'string') return detail.reason;
  }
  return GENERIC[status] ?? 'Error';
}
