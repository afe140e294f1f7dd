import { DomainError } from '../../domain-error';

/** A request GitHub answers 400 (a list without `package_type`): not a validation failure (422). */
export class GitHubBadRequest extends DomainError {}

/** A query or path parameter out of its range (`per_page=0`, an id that is not an integer, `state=gone`). */
export class GitHubValidationFailed extends DomainError {}
