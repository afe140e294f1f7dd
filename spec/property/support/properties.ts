/**
 * Runs fast-check properties with one fixed seed and a bounded number of
 * runs, and prints how many cases each property tried (issue 20 asks for the
 * counts in `make test` output). BERTH_PROPERTY_SEED and BERTH_PROPERTY_RUNS
 * override the defaults, e.g. to replay a failure or to search longer.
 */
import fc from 'fast-check';
import type { Response } from 'supertest';
import { API_PREFIX } from '../../../src/http/api/api-prefix';
import { MANAGEMENT_ERROR_CODES, type ManagementErrorCode } from '../../../src/http/management-error-codes';
import { ERROR_CODES, type ErrorCode } from '../../../src/http/registry-error';

export const SEED = Number(process.env.BERTH_PROPERTY_SEED ?? 20_2026);
// A few seconds per property here; ample room for a loaded 2-core machine.
jest.setTimeout(90_000);
const DEFAULT_RUNS = Number(process.env.BERTH_PROPERTY_RUNS ?? 250);

interface Tally {
  name: string;
  runs: number;
  skips: number;
  failed: boolean;
}
const tallies: Tally[] = [];

/** Checks `predicate` on `runs` generated values; a failure reports the shrunk counterexample and the seed. */
export async function checkProperty<T>(
  name: string,
  arbitrary: fc.Arbitrary<T>,
  predicate: (value: T) => Promise<void> | void,
  runs = DEFAULT_RUNS,
): Promise<void> {
  const details = await fc.check(
    fc.asyncProperty(arbitrary, async (value) => {
      await predicate(value);
    }),
    { seed: SEED, numRuns: runs },
  );
  tallies.push({ name, runs: details.numRuns, skips: details.numSkips, failed: details.failed });
  if (details.failed) {
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    const report = fc.defaultReportMessage(details) ?? `property "${name}" failed (seed ${SEED})`;
    throw new Error(`${cause}\n${report.length > 2000 ? `${report.slice(0, 2000)}…` : report}`);
  }
}

/** One line per property of the file: its name, the cases tried, the seed. Call from afterAll. */
export function printPropertyCounts(file: string): void {
  const lines = tallies.map(
    (t) => `  ${t.failed ? 'FAILED' : 'ok'} ${t.name}: ${t.runs} cases tried${t.skips ? `, ${t.skips} skipped` : ''} (seed ${SEED})`,
  );

  console.log(`property cases, ${file}:\n${lines.join('\n')}`);
}

/**
 * Codes answered with another status than their declared one, on purpose: the
 * spec's 416 for an out-of-order chunk, body-parser's 413/415 for a body, and
 * the token endpoint's 400 for an unsupported grant_type (RFC 6749 §5.2).
 */
const PINNED_STATUSES: ReadonlyArray<readonly [ErrorCode | ManagementErrorCode, number]> = [
  ['BLOB_UPLOAD_INVALID', 416],
  ['REQUEST_INVALID', 413],
  ['REQUEST_INVALID', 415],
  ['UNSUPPORTED', 400],
];

/**
 * The registry's error answer: never 5xx, the status one of `statuses`, the
 * body `{"errors":[{code,message,detail}]}` with a declared code (the
 * management API's own under /api/v1), and a 401 that carries its challenge.
 */
export function expectErrorAnswer(res: Response, statuses: readonly number[], where: string): ErrorCode | ManagementErrorCode {
  const context = `${where}: ${res.status} ${res.text?.slice(0, 300)}`;
  if (res.status >= 500 || !statuses.includes(res.status)) throw new Error(`unexpected status; ${context}`);
  if (res.status === 401 && !res.headers['www-authenticate']) throw new Error(`401 without WWW-Authenticate; ${context}`);
  if (res.request.method === 'HEAD') return 'UNKNOWN';
  if (!/^application\/json/.test(String(res.headers['content-type']))) throw new Error(`not JSON; ${context}`);
  const body = JSON.parse(res.text) as unknown;
  const errors = (body as { errors?: unknown }).errors;
  const declared: Record<string, { status: number }> = new URL(res.request.url).pathname.startsWith(API_PREFIX)
    ? MANAGEMENT_ERROR_CODES
    : ERROR_CODES;
  if (!Array.isArray(errors) || errors.length === 0) throw new Error(`no errors array; ${context}`);
  for (const e of errors as Array<Record<string, unknown>>) {
    const keys = Object.keys(e).sort().join(',');
    if (keys !== 'code,detail,message' || typeof e.message !== 'string' || !(String(e.code) in declared)) {
      throw new Error(`malformed error entry; ${context}`);
    }
  }
  const code = String((errors[0] as { code: string }).code) as ErrorCode | ManagementErrorCode;
  if (declared[code]!.status !== res.status && !PINNED_STATUSES.some(([c, s]) => c === code && s === res.status)) {
    throw new Error(`status does not match ${code}; ${context}`);
  }
  return code;
}

/** A success or the registry's error answer: below 400 anything of `ok`, else `expectErrorAnswer`. */
export function expectAnswer(
  res: Response,
  ok: readonly number[],
  errors: readonly number[],
  where: string,
  codes?: ReadonlyArray<ErrorCode | ManagementErrorCode>,
): void {
  if (res.status < 400) {
    if (!ok.includes(res.status)) throw new Error(`${where}: unexpected ${res.status} ${res.text?.slice(0, 300)}`);
    return;
  }
  const code = expectErrorAnswer(res, errors, where);
  if (codes && res.request.method !== 'HEAD' && !codes.includes(code))
    throw new Error(`${where}: unexpected code ${code}: ${res.text?.slice(0, 300)}`);
}

/** Characters a request line or header may carry as they are (Node's client refuses the rest). */
const SAFE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:@!$&'()*+,;=";

/** A path segment that may hold traversal, encoded slashes, bad escapes and any character, percent-encoded. */
export const pathSegment: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '..',
        '.',
        '/',
        '%2F',
        '%2f',
        '%2e',
        '%2E%2E',
        '%00',
        '%ZZ',
        '%',
        '%5C',
        '\\',
        'sha256:',
        'sha512:',
        '@',
        '_',
        '__',
        '--',
      ),
      fc.string({ unit: fc.constantFrom(...SAFE.split('')), maxLength: 12 }),
      fc.string({ maxLength: 6, unit: 'binary' }).map((s) => encodeURIComponent(s)),
      fc.stringMatching(/^[a-f0-9]{64}$/),
    ),
    { maxLength: 6 },
  )
  .map((parts) => parts.join(''));

/** A header value Node will send: latin-1 without control characters. */
export const headerValue = (maxLength = 200): fc.Arbitrary<string> =>
  fc.string({
    unit: fc
      .integer({ min: 0x20, max: 0xff })
      .filter((c) => c !== 0x7f)
      .map((c) => String.fromCharCode(c)),
    maxLength,
  });
