import { CollectionRunning } from '../../src/gc/errors';
import { RetentionRunning } from '../../src/retention/errors';
import { SearchQueryInvalid } from '../../src/search/search-errors';
import { readdirSync, readFileSync } from 'node:fs';
import { VersionInUse, VersionRestoreBlocked } from '../../src/metadata/versions';
import { GitHubBadRequest, GitHubValidationFailed } from '../../src/http/github/github-edge-errors';
import { UrlRefused } from '../../src/outbound/address-guard';
import { RemoteRegistryFailed } from '../../src/transfer/remote-registry';
import { ArchiveInvalid } from '../../src/transfer/archive-errors';
import { ProxyPushRefused, UpstreamUnavailable } from '../../src/proxy/proxy-errors';
import { HookNotFound } from '../../src/webhooks/hook-service';
import path from 'node:path';
import { AccessDenied, LoginThrottled, Unauthenticated } from '../../src/auth/errors';
import {
  AccessTokenNotFound,
  AccountNotFound,
  InvalidRequest,
  NameTaken,
  OrganizationNotFound,
  PackageNotFound,
  RepositoryNotFound,
  SigningKeyNotFound,
  StillNeeded,
  UserNotFound,
} from '../../src/auth/management/errors';
import { DomainError } from '../../src/domain-error';
import { ContentRangeInvalid, RangeNotSatisfiable, RequestBodyRefused, RouteNotFound } from '../../src/http/edge-errors';
import { errorAnswer, ruleFor, type ErrorDialect } from '../../src/http/error-mapping';
import { RegistryError } from '../../src/http/registry-error';
import { DigestInvalid, ManifestInvalid, NameInvalid } from '../../src/oci/grammar-errors';
import {
  BlobUnknown,
  DigestMismatch,
  ManifestBlobMissing,
  ManifestReferenceMissing,
  ManifestTooLarge,
  ManifestUnknown,
  PageCursorInvalid,
  PageSizeInvalid,
  BlobBeingCollected,
  TagImmutable,
  ReferencedElsewhere,
  RepositoryUnknown,
  UploadInvalid,
  UploadRangeInvalid,
  UploadUnknown,
  StorageQuotaExceeded,
  VersionQuotaExceeded,
} from '../../src/registry/errors';
import { DatabaseContendedError, DatabaseUnavailableError } from '../../src/persistence/database-faults';
import { BlobNotFoundError, UploadNotFoundError } from '../../src/storage/blob-store';
import { StorageFullError, StorageUnavailableError } from '../../src/storage/storage-faults';

const SRC = path.join(__dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

type ErrorType = abstract new (...args: never[]) => DomainError;

/**
 * Every class in src/ that extends DomainError, directly or through another
 * one, found by reading the source (so a new file is found without being
 * listed here) and loading only the modules that declare one.
 */
function domainErrorClasses(): { declared: string[]; exported: Map<string, ErrorType> } {
  const files = sourceFiles(SRC).map((file) => ({ file, text: readFileSync(file, 'utf8') }));
  const known = new Set(['DomainError']);
  const declaring = new Map<string, string[]>();
  for (let grew = true; grew;) {
    grew = false;
    for (const { file, text } of files) {
      for (const [, name, base] of text.matchAll(/class (\w+) extends (\w+)/g)) {
        if (!known.has(base!) || known.has(name!)) continue;
        known.add(name!);
        declaring.set(file, [...(declaring.get(file) ?? []), name!]);
        grew = true;
      }
    }
  }
  const declared: string[] = [];
  const exported = new Map<string, ErrorType>();
  for (const [file, names] of declaring) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const module = require(file) as Record<string, unknown>;
    for (const name of names) {
      const value = module[name];
      if (typeof value === 'function' && value.prototype instanceof DomainError) exported.set(name, value as ErrorType);
      else declared.push(name);
    }
  }
  return { declared, exported };
}

describe('the error mapping', () => {
  const { declared, exported } = domainErrorClasses();

  it('finds the domain errors of every layer (the scan is not empty)', () => {
    for (const type of [UploadRangeInvalid, LoginThrottled, UserNotFound, NameInvalid, RouteNotFound]) {
      expect(exported.get(type.name)).toBe(type);
    }
  });

  it('exports every DomainError subclass (a hidden one could not be checked)', () => {
    expect(declared).toEqual([]);
  });

  it('has a rule for every DomainError subclass in src/', () => {
    const unmapped = [...exported].filter(([, type]) => ruleFor(type) === undefined).map(([name]) => name);
    expect(unmapped).toEqual([]);
  });
});

const position = { repository: 'r/x', uploadId: 'u-1', offset: 5 };

/**
 * What clients see for each error: status, code and headers on /v2 (as Berth
 * answered before the errors were typed: the OCI suite and real clients
 * depend on them), and the management API's code.
 */
const TABLE: Array<[DomainError, number, string, Record<string, string>, string]> = [
  [new NameInvalid('x'), 400, 'NAME_INVALID', {}, 'REQUEST_INVALID'],
  [new DigestInvalid('x'), 400, 'DIGEST_INVALID', {}, 'REQUEST_INVALID'],
  [new ManifestInvalid('x'), 400, 'MANIFEST_INVALID', {}, 'REQUEST_INVALID'],
  [
    new UploadRangeInvalid('x', position),
    416,
    'BLOB_UPLOAD_INVALID',
    { Range: '0-4', Location: '/v2/r/x/blobs/uploads/u-1', 'Docker-Upload-UUID': 'u-1' },
    'REQUEST_INVALID',
  ],
  [new UploadUnknown('x'), 404, 'BLOB_UPLOAD_UNKNOWN', {}, 'NOT_FOUND'],
  [new UploadInvalid('x'), 400, 'BLOB_UPLOAD_INVALID', {}, 'REQUEST_INVALID'],
  [new DigestMismatch('x'), 400, 'DIGEST_INVALID', {}, 'REQUEST_INVALID'],
  [new BlobUnknown({ digest: 'sha256:a' }), 404, 'BLOB_UNKNOWN', {}, 'NOT_FOUND'],
  [new CollectionRunning('x'), 409, 'CONFLICT', {}, 'CONFLICT'],
  [new RetentionRunning('x'), 409, 'CONFLICT', {}, 'CONFLICT'],
  [new TagImmutable('x'), 403, 'DENIED', {}, 'FORBIDDEN'],
  [new StorageQuotaExceeded('x'), 403, 'DENIED', {}, 'FORBIDDEN'],
  [new VersionQuotaExceeded('x'), 403, 'DENIED', {}, 'FORBIDDEN'],
  [new BlobBeingCollected('x'), 503, 'UNAVAILABLE', { 'Retry-After': '1' }, 'UNAVAILABLE'],
  [new ManifestUnknown({ tag: 't' }), 404, 'MANIFEST_UNKNOWN', {}, 'NOT_FOUND'],
  [new ManifestTooLarge(4 * 1024 * 1024), 413, 'MANIFEST_INVALID', {}, 'REQUEST_INVALID'],
  [new ManifestBlobMissing({ digest: 'sha256:a' }), 400, 'MANIFEST_BLOB_UNKNOWN', {}, 'REQUEST_INVALID'],
  [new ManifestReferenceMissing({ digest: 'sha256:a' }), 400, 'MANIFEST_UNKNOWN', {}, 'REQUEST_INVALID'],
  [new ReferencedElsewhere({ digest: 'sha256:a', referencedBy: [] }), 409, 'CONFLICT', {}, 'CONFLICT'],
  [new RepositoryUnknown({ name: 'r/x' }), 404, 'NAME_UNKNOWN', {}, 'REPOSITORY_NOT_FOUND'],
  [new PageSizeInvalid('x'), 400, 'PAGINATION_NUMBER_INVALID', {}, 'REQUEST_INVALID'],
  [new PageCursorInvalid('x'), 400, 'PAGINATION_NUMBER_INVALID', {}, 'REQUEST_INVALID'],
  [new ArchiveInvalid('x'), 400, 'MANIFEST_INVALID', {}, 'REQUEST_INVALID'],
  [new ProxyPushRefused('x'), 403, 'DENIED', {}, 'FORBIDDEN'],
  [new UpstreamUnavailable('x'), 502, 'UNAVAILABLE', {}, 'UNAVAILABLE'],
  [new Unauthenticated('x'), 401, 'UNAUTHORIZED', {}, 'UNAUTHORIZED'],
  [new AccessDenied('x'), 403, 'DENIED', {}, 'FORBIDDEN'],
  [new LoginThrottled(42), 429, 'TOOMANYREQUESTS', { 'Retry-After': '42' }, 'TOO_MANY_REQUESTS'],
  [new UserNotFound('x'), 404, 'NAME_UNKNOWN', {}, 'USER_NOT_FOUND'],
  [new VersionInUse('sha256:a', ['sha256:b'], []), 409, 'CONFLICT', {}, 'CONFLICT'],
  [new VersionRestoreBlocked('sha256:a', ['sha256:b']), 409, 'CONFLICT', {}, 'CONFLICT'],
  [new GitHubBadRequest('x'), 400, 'REQUEST_INVALID', {}, 'REQUEST_INVALID'],
  [new GitHubValidationFailed('x'), 400, 'REQUEST_INVALID', {}, 'REQUEST_INVALID'],
  [new OrganizationNotFound('x'), 404, 'NAME_UNKNOWN', {}, 'ORGANIZATION_NOT_FOUND'],
  [new AccountNotFound('x'), 404, 'NAME_UNKNOWN', {}, 'ACCOUNT_NOT_FOUND'],
  [new RepositoryNotFound('x'), 404, 'NAME_UNKNOWN', {}, 'REPOSITORY_NOT_FOUND'],
  [new PackageNotFound('x'), 404, 'NAME_UNKNOWN', {}, 'PACKAGE_NOT_FOUND'],
  [new AccessTokenNotFound('x'), 404, 'NAME_UNKNOWN', {}, 'TOKEN_NOT_FOUND'],
  [new SigningKeyNotFound('x'), 404, 'NAME_UNKNOWN', {}, 'SIGNING_KEY_NOT_FOUND'],
  [new NameTaken('x'), 409, 'CONFLICT', {}, 'ALREADY_EXISTS'],
  [new StillNeeded('x'), 409, 'CONFLICT', {}, 'CONFLICT'],
  [new InvalidRequest('x'), 400, 'REQUEST_INVALID', {}, 'REQUEST_INVALID'],
  [new SearchQueryInvalid('x'), 400, 'REQUEST_INVALID', {}, 'QUERY_INVALID'],
  [new RouteNotFound({ path: '/x' }), 404, 'NOT_FOUND', {}, 'NOT_FOUND'],
  [new RequestBodyRefused('too large', 413), 413, 'REQUEST_INVALID', {}, 'REQUEST_INVALID'],
  [new ContentRangeInvalid('x'), 416, 'BLOB_UPLOAD_INVALID', {}, 'REQUEST_INVALID'],
  [new RangeNotSatisfiable(10), 416, 'RANGE_INVALID', { 'Content-Range': 'bytes */10' }, 'REQUEST_INVALID'],
  [new HookNotFound('x'), 404, 'NAME_UNKNOWN', {}, 'NOT_FOUND'],
  [new UrlRefused('x'), 422, 'REQUEST_INVALID', {}, 'REQUEST_INVALID'],
  [new RemoteRegistryFailed('x'), 502, 'UPSTREAM_FAILED', {}, 'UPSTREAM_FAILED'],
];

describe('each domain error', () => {
  it('is in the table once, so the table covers every rule', () => {
    const { exported } = domainErrorClasses();
    expect(TABLE.map(([err]) => err.constructor.name).sort()).toEqual([...exported.keys()].sort());
  });

  it.each(TABLE.map((row) => [row[0].constructor.name, ...row] as const))(
    '%s answers /v2 with its status, OCI code and headers, and /api/v1 with its own code',
    (_name, err, status, code, headers, managementCode) => {
      const registry = errorAnswer(err, 'registry');
      expect({ status: registry.status, code: registry.code, headers: registry.headers }).toEqual({ status, code, headers });
      expect(registry.detail).toEqual(err.detail);
      expect(registry.log).toBeNull();
      const management = errorAnswer(err, 'management');
      expect(management.code).toBe(managementCode);
      expect(management.headers).toEqual(headers);
    },
  );
});

describe('refusals a person reads in a client', () => {
  // The Docker engine prints `code: message` and drops `detail` (moby's errcode.Error.Error()).
  it.each([
    new TagImmutable('tag v1 is immutable (rule 3)'),
    new ProxyPushRefused('this is a pull-through cache'),
    new StorageQuotaExceeded('storage quota of acme exceeded: 10 bytes used, 12 allowed; this blob needs 5 more'),
    new VersionQuotaExceeded('version quota of acme/app exceeded: it has 2 versions, 2 allowed; delete one to push another'),
  ])("%s carries its own words as the message; others the code's", (err) => {
    expect(errorAnswer(err, 'registry').message).toBe(err.message);
    expect(errorAnswer(err, 'management').message).toBe(err.message);
    expect(errorAnswer(new BlobUnknown('x'), 'registry').message).toBe('blob unknown to registry');
  });
});

describe('errors that are not domain errors', () => {
  // [what, error, status, /v2 code, /api/v1 code, headers, log level]
  const cases: Array<[string, unknown, number, string, string, Record<string, string>, ErrorAnswerLog]> = [
    ['a full disk', Object.assign(new Error('no space'), { code: 'ENOSPC' }), 507, 'STORAGE_FULL', 'STORAGE_FULL', {}, 'warn'],
    ['typed full storage', new StorageFullError(), 507, 'STORAGE_FULL', 'STORAGE_FULL', {}, 'warn'],
    ['unavailable storage', new StorageUnavailableError(undefined, 7), 503, 'UNAVAILABLE', 'UNAVAILABLE', { 'Retry-After': '7' }, 'warn'],
    [
      'an unavailable database',
      new DatabaseUnavailableError(new Error('terminated'), 3),
      503,
      'UNAVAILABLE',
      'UNAVAILABLE',
      { 'Retry-After': '3' },
      'warn',
    ],
    [
      'a transaction that kept conflicting',
      new DatabaseContendedError(Object.assign(new Error('could not serialize access'), { code: '40001' }), 20),
      503,
      'UNAVAILABLE',
      'UNAVAILABLE',
      { 'Retry-After': '1' },
      'warn',
    ],
    ['a vanished upload', new UploadNotFoundError('u-1'), 404, 'BLOB_UPLOAD_UNKNOWN', 'NOT_FOUND', {}, null],
    ['a vanished blob', new BlobNotFoundError('sha256:a'), 404, 'BLOB_UNKNOWN', 'NOT_FOUND', {}, null],
    ['a bug', new TypeError('oops'), 500, 'UNKNOWN', 'UNKNOWN', {}, 'error'],
  ];

  it.each(cases)('%s', (_what, err, status, registryCode, managementCode, headers, log) => {
    const codes: Record<ErrorDialect, string> = { registry: registryCode, management: managementCode };
    for (const dialect of ['registry', 'management'] as const) {
      const answer = errorAnswer(err, dialect);
      const seen = { status: answer.status, code: answer.code, headers: answer.headers, log: answer.log };
      expect(seen).toEqual({ status, code: codes[dialect], headers, log });
    }
  });

  it('tells a database outage from a burst of conflicting writes in the detail', () => {
    const outage = errorAnswer(new DatabaseUnavailableError(new Error('terminated')), 'registry');
    const contended = errorAnswer(new DatabaseContendedError(Object.assign(new Error('conflict'), { code: '40001' }), 20), 'registry');
    expect([outage.detail, contended.detail]).toEqual([
      'the database is unavailable; retry later',
      'the database is busy with conflicting writes; retry later',
    ]);
  });

  it("keeps an edge RegistryError's own status and headers", () => {
    const challenge = new RegistryError('UNAUTHORIZED', 'x', { headers: { 'WWW-Authenticate': 'Bearer realm="r"' } });
    expect(errorAnswer(challenge, 'registry')).toMatchObject({
      status: 401,
      code: 'UNAUTHORIZED',
      headers: { 'WWW-Authenticate': 'Bearer realm="r"' },
    });
  });
});

type ErrorAnswerLog = 'error' | 'warn' | null;
