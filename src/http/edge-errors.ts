import { DomainError } from '../domain-error';

/** No route answers the path. */
export class RouteNotFound extends DomainError {}

/**
 * A request body the body parser refused (malformed JSON, too large, wrong
 * charset): the parser's own status (400, 413, 415) is kept, since it is
 * already the right one.
 */
export class RequestBodyRefused extends DomainError {
  constructor(
    detail: string,
    readonly parserStatus: number,
  ) {
    super(detail);
  }
}

/** A Content-Range on a chunk that is malformed or disagrees with Content-Length. */
export class ContentRangeInvalid extends DomainError {}

/** A blob GET's Range that lies outside the blob. */
export class RangeNotSatisfiable extends DomainError {
  constructor(readonly blobSize: number) {
    super(`range not satisfiable for a blob of ${blobSize} bytes`);
  }
}
