import { DomainError } from '../domain-error';

/** No valid credentials: none given, wrong ones, or ones that no longer grant access. */
export class Unauthenticated extends DomainError {}

/** The caller is known but may not do this. */
export class AccessDenied extends DomainError {}

/** Too many failed logins for a user name or address; the lock-out ends after `retryAfterSeconds`. */
export class LoginThrottled extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super('too many failed logins; try again later');
  }
}
