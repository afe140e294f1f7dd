import { DomainError } from '../domain-error';

/** A search query Berth cannot read: an unknown `is:` value, a malformed qualifier, a query too long. */
export class SearchQueryInvalid extends DomainError {}
