import { DomainError } from '../../domain-error';

/**
 * The management layer's refusals. What the caller may not see is reported
 * as not found, like what does not exist. Who is not signed in or may not act
 * is Unauthenticated or AccessDenied (src/auth/errors.ts).
 */
export class UserNotFound extends DomainError {}

export class OrganizationNotFound extends DomainError {}

/** Neither a user nor an organisation has the name. */
export class AccountNotFound extends DomainError {}

export class RepositoryNotFound extends DomainError {}

export class PackageNotFound extends DomainError {}

export class AccessTokenNotFound extends DomainError {}

export class SigningKeyNotFound extends DomainError {}

/** A user, organisation or repository name that is already taken. */
export class NameTaken extends DomainError {}

/** Something that must stay: the last administrator or owner, a package still owned, a linked package's visibility. */
export class StillNeeded extends DomainError {}

/** Malformed input: a bad name, body, scope or lifetime. */
export class InvalidRequest extends DomainError {}
