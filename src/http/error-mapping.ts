import { AccessDenied, LoginThrottled, Unauthenticated } from '../auth/errors';
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
} from '../auth/management/errors';
import { DomainError } from '../domain-error';
import { SearchQueryInvalid } from '../search/search-errors';
import { DigestInvalid, ManifestInvalid, NameInvalid } from '../oci/grammar-errors';
import {
  BlobBeingCollected,
  TagImmutable,
  BlobUnknown,
  DigestMismatch,
  ManifestBlobMissing,
  ManifestReferenceMissing,
  ManifestTooLarge,
  ManifestUnknown,
  PageCursorInvalid,
  PageSizeInvalid,
  ReferencedElsewhere,
  RepositoryUnknown,
  UploadInvalid,
  UploadRangeInvalid,
  UploadUnknown,
  StorageQuotaExceeded,
  VersionQuotaExceeded,
} from '../registry/errors';
import { CollectionRunning } from '../gc/errors';
import { RetentionRunning } from '../retention/errors';
import { DatabaseContendedError, DatabaseUnavailableError } from '../persistence/database-faults';
import { VersionInUse, VersionRestoreBlocked } from '../metadata/versions';
import { BlobNotFoundError, UploadNotFoundError } from '../storage/blob-store';
import { localStorageFault, StorageFullError, StorageUnavailableError } from '../storage/storage-faults';
import { ContentRangeInvalid, RangeNotSatisfiable, RequestBodyRefused, RouteNotFound } from './edge-errors';
import { MANAGEMENT_ERROR_CODES, type ManagementErrorCode } from './management-error-codes';
import { ERROR_CODES, RegistryError, type ErrorCode } from './registry-error';
import { uploadProgressHeaders } from './routes';
import { GitHubBadRequest, GitHubValidationFailed } from './github/github-edge-errors';
import { ArchiveInvalid } from '../transfer/archive-errors';
import { RemoteRegistryFailed } from '../transfer/remote-registry';
import { UrlRefused } from '../outbound/address-guard';
import { HookNotFound } from '../webhooks/hook-service';
import { ProxyPushRefused, UpstreamUnavailable } from '../proxy/proxy-errors';

/** Which API answers: the registry (/v2 and /token, OCI codes) or the management API (/api/v1, its own codes). */
export type ErrorDialect = 'registry' | 'management';

/** Everything a response to a failed request carries. */
export interface ErrorAnswer {
  status: number;
  code: ErrorCode | ManagementErrorCode;
  message: string;
  detail: unknown;
  headers: Record<string, string>;
  /** How loudly to log it: a bug is an error, a storage fault a warning, a refusal nothing. */
  log: 'error' | 'warn' | null;
}

interface ErrorRule<E> {
  registry: ErrorCode;
  management: ManagementErrorCode;
  /** The spec pins some situations to another status than the code's usual one (an out-of-order chunk: 416). */
  status?: (err: E) => number;
  headers?: (err: E) => Record<string, string>;
  /**
   * The error's own words as its `message` instead of the code's generic one: for refusals a person must read,
   * since the Docker engine prints `code: message` and drops `detail` (moby's errcode.Error.Error()).
   */
  ownMessage?: true;
}

type ErrorType<E extends DomainError> = abstract new (...args: never[]) => E;

const RULES = new Map<ErrorType<DomainError>, ErrorRule<DomainError>>();

function rule<E extends DomainError>(type: ErrorType<E>, errorRule: ErrorRule<E>): void {
  RULES.set(type, errorRule as ErrorRule<DomainError>);
}

// src/oci: grammar.
rule(NameInvalid, { registry: 'NAME_INVALID', management: 'REQUEST_INVALID' });
rule(DigestInvalid, { registry: 'DIGEST_INVALID', management: 'REQUEST_INVALID' });
rule(ManifestInvalid, { registry: 'MANIFEST_INVALID', management: 'REQUEST_INVALID' });

// src/registry.
rule(UploadRangeInvalid, {
  registry: 'BLOB_UPLOAD_INVALID',
  management: 'REQUEST_INVALID',
  // distribution-spec: an out-of-order chunk is 416; Docker's API adds where the upload stands and its URL.
  status: () => 416,
  headers: ({ position }) => uploadProgressHeaders(position.repository, position.uploadId, position.offset),
});
rule(UploadUnknown, { registry: 'BLOB_UPLOAD_UNKNOWN', management: 'NOT_FOUND' });
rule(UploadInvalid, { registry: 'BLOB_UPLOAD_INVALID', management: 'REQUEST_INVALID' });
rule(DigestMismatch, { registry: 'DIGEST_INVALID', management: 'REQUEST_INVALID' });
rule(BlobUnknown, { registry: 'BLOB_UNKNOWN', management: 'NOT_FOUND' });
rule(ManifestUnknown, { registry: 'MANIFEST_UNKNOWN', management: 'NOT_FOUND' });
rule(ManifestTooLarge, { registry: 'MANIFEST_INVALID', management: 'REQUEST_INVALID', status: () => 413 });
rule(ManifestBlobMissing, { registry: 'MANIFEST_BLOB_UNKNOWN', management: 'REQUEST_INVALID' });
// A pushed manifest naming an absent manifest is the client's mistake: 400, not MANIFEST_UNKNOWN's usual 404.
rule(ManifestReferenceMissing, { registry: 'MANIFEST_UNKNOWN', management: 'REQUEST_INVALID', status: () => 400 });
rule(ReferencedElsewhere, { registry: 'CONFLICT', management: 'CONFLICT' });
rule(RepositoryUnknown, { registry: 'NAME_UNKNOWN', management: 'REPOSITORY_NOT_FOUND' });
rule(PageSizeInvalid, { registry: 'PAGINATION_NUMBER_INVALID', management: 'REQUEST_INVALID' });
rule(ArchiveInvalid, { registry: 'MANIFEST_INVALID', management: 'REQUEST_INVALID' });
rule(RemoteRegistryFailed, { registry: 'UPSTREAM_FAILED', management: 'UPSTREAM_FAILED' });
rule(BlobBeingCollected, {
  registry: 'UNAVAILABLE',
  management: 'UNAVAILABLE',
  headers: () => ({ 'Retry-After': '1' }),
});
// An immutable tag (issue #22): DENIED, its message naming the rule, which is what the Docker engine prints.
rule(TagImmutable, { registry: 'DENIED', management: 'FORBIDDEN', ownMessage: true });
rule(PageCursorInvalid, { registry: 'PAGINATION_NUMBER_INVALID', management: 'REQUEST_INVALID' });
// Quotas (issue #22): DENIED with the figures as the message, which the Docker engine and skopeo print.
rule(StorageQuotaExceeded, { registry: 'DENIED', management: 'FORBIDDEN', ownMessage: true });
rule(VersionQuotaExceeded, { registry: 'DENIED', management: 'FORBIDDEN', ownMessage: true });

// src/proxy: a cache takes no pushes; an upstream that cannot answer, with nothing cached to stand in, is a bad gateway.
rule(ProxyPushRefused, { registry: 'DENIED', management: 'FORBIDDEN', ownMessage: true });
rule(UpstreamUnavailable, { registry: 'UNAVAILABLE', management: 'UNAVAILABLE', status: () => 502 });

// src/metadata: versions (issue #15), refused while something needs them or is gone.
rule(VersionInUse, { registry: 'CONFLICT', management: 'CONFLICT' });
rule(VersionRestoreBlocked, { registry: 'CONFLICT', management: 'CONFLICT' });

// src/auth.
rule(Unauthenticated, { registry: 'UNAUTHORIZED', management: 'UNAUTHORIZED' });
rule(AccessDenied, { registry: 'DENIED', management: 'FORBIDDEN' });
rule(LoginThrottled, {
  registry: 'TOOMANYREQUESTS',
  management: 'TOO_MANY_REQUESTS',
  headers: ({ retryAfterSeconds }) => ({ 'Retry-After': String(retryAfterSeconds) }),
});

// src/auth/management. The registry codes serve the CLI's messages and any refusal reaching /v2 or /token.
rule(UserNotFound, { registry: 'NAME_UNKNOWN', management: 'USER_NOT_FOUND' });
rule(OrganizationNotFound, { registry: 'NAME_UNKNOWN', management: 'ORGANIZATION_NOT_FOUND' });
rule(AccountNotFound, { registry: 'NAME_UNKNOWN', management: 'ACCOUNT_NOT_FOUND' });
rule(RepositoryNotFound, { registry: 'NAME_UNKNOWN', management: 'REPOSITORY_NOT_FOUND' });
rule(PackageNotFound, { registry: 'NAME_UNKNOWN', management: 'PACKAGE_NOT_FOUND' });
rule(AccessTokenNotFound, { registry: 'NAME_UNKNOWN', management: 'TOKEN_NOT_FOUND' });
rule(SigningKeyNotFound, { registry: 'NAME_UNKNOWN', management: 'SIGNING_KEY_NOT_FOUND' });
rule(NameTaken, { registry: 'CONFLICT', management: 'ALREADY_EXISTS' });
rule(StillNeeded, { registry: 'CONFLICT', management: 'CONFLICT' });
rule(InvalidRequest, { registry: 'REQUEST_INVALID', management: 'REQUEST_INVALID' });

// src/gc: one collection at a time.
rule(CollectionRunning, { registry: 'CONFLICT', management: 'CONFLICT' });
// src/retention: one run at a time.
rule(RetentionRunning, { registry: 'CONFLICT', management: 'CONFLICT' });

// src/webhooks: a hook URL refused by the SSRF guard is GitHub's 422 on both APIs.
rule(HookNotFound, { registry: 'NAME_UNKNOWN', management: 'NOT_FOUND' });
rule(UrlRefused, { registry: 'REQUEST_INVALID', management: 'REQUEST_INVALID', status: () => 422 });
// src/search.
rule(SearchQueryInvalid, { registry: 'REQUEST_INVALID', management: 'QUERY_INVALID' });

// src/http: the edge's own.
rule(RouteNotFound, { registry: 'NOT_FOUND', management: 'NOT_FOUND' });
rule(ContentRangeInvalid, { registry: 'BLOB_UPLOAD_INVALID', management: 'REQUEST_INVALID', status: () => 416 });
rule(RangeNotSatisfiable, {
  registry: 'RANGE_INVALID',
  management: 'REQUEST_INVALID',
  headers: ({ blobSize }) => ({ 'Content-Range': `bytes */${blobSize}` }),
});
// src/http/github: GitHub's statuses for these (400 and 422) are github-errors.ts's to give.
rule(GitHubBadRequest, { registry: 'REQUEST_INVALID', management: 'REQUEST_INVALID' });
rule(GitHubValidationFailed, { registry: 'REQUEST_INVALID', management: 'REQUEST_INVALID' });
rule(RequestBodyRefused, { registry: 'REQUEST_INVALID', management: 'REQUEST_INVALID', status: (err) => err.parserStatus });

/** The rule for a domain error's class (or the nearest mapped ancestor), or undefined when none is declared. */
export function ruleFor(type: ErrorType<DomainError>): ErrorRule<DomainError> | undefined {
  for (let t: unknown = type; typeof t === 'function' && t !== DomainError; t = Object.getPrototypeOf(t)) {
    const found = RULES.get(t as ErrorType<DomainError>);
    if (found) return found;
  }
  return undefined;
}

/**
 * The one place a failure becomes status, code and headers. Domain errors
 * follow their rule; the edge's RegistryErrors (challenges, ranges) carry
 * their own; storage and database faults are the server's (507 full, 503
 * with Retry-After); a vanished upload or blob is unknown to the client; anything
 * else is a bug: 500.
 */
export function errorAnswer(err: unknown, dialect: ErrorDialect): ErrorAnswer {
  if (err instanceof RegistryError) {
    return {
      status: err.status,
      code: err.code,
      message: ERROR_CODES[err.code].message,
      detail: err.detail ?? null,
      headers: err.headers,
      log: null,
    };
  }
  if (err instanceof DomainError) {
    const found = ruleFor(err.constructor as ErrorType<DomainError>);
    if (found) {
      const answered = answer(dialect, found.registry, found.management, err.detail, found.headers?.(err) ?? {}, null, found.status?.(err));
      return found.ownMessage ? { ...answered, message: err.message } : answered;
    }
  }
  if (err instanceof UploadNotFoundError) {
    return answer(dialect, 'BLOB_UPLOAD_UNKNOWN', 'NOT_FOUND', `upload ${err.uploadId} is not in progress`);
  }
  if (err instanceof BlobNotFoundError) return answer(dialect, 'BLOB_UNKNOWN', 'NOT_FOUND', { digest: err.digest });
  // A database (PostgreSQL) that is down, restarting or frozen is a wait, like unavailable storage.
  if (err instanceof DatabaseUnavailableError) {
    const headers = { 'Retry-After': String(err.retryAfterSeconds) };
    // Said apart: a client (and whoever reads its log) can tell an outage from a burst of conflicting writes.
    const detail = err instanceof DatabaseContendedError ? 'the database is busy with conflicting writes' : 'the database is unavailable';
    return answer(dialect, 'UNAVAILABLE', 'UNAVAILABLE', `${detail}; retry later`, headers, 'warn');
  }
  const fault = localStorageFault(err);
  if (fault instanceof StorageFullError) {
    return answer(dialect, 'STORAGE_FULL', 'STORAGE_FULL', 'storage is full; free space or retry later', {}, 'warn');
  }
  if (fault instanceof StorageUnavailableError) {
    const headers = { 'Retry-After': String(fault.retryAfterSeconds) };
    return answer(dialect, 'UNAVAILABLE', 'UNAVAILABLE', 'storage is unavailable; retry later', headers, 'warn');
  }
  return answer(dialect, 'UNKNOWN', 'UNKNOWN', null, {}, 'error');
}

function answer(
  dialect: ErrorDialect,
  registry: ErrorCode,
  management: ManagementErrorCode,
  detail: unknown,
  headers: Record<string, string> = {},
  log: ErrorAnswer['log'] = null,
  status?: number,
): ErrorAnswer {
  const declared = dialect === 'registry' ? ERROR_CODES[registry] : MANAGEMENT_ERROR_CODES[management];
  const code = dialect === 'registry' ? registry : management;
  return { status: status ?? declared.status, code, message: declared.message, detail, headers, log };
}
