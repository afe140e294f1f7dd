import { DomainError } from '../domain-error';

/** An image archive Berth cannot import as sent: malformed, unsafe or incomplete. Nothing of it is kept. */
export class ArchiveInvalid extends DomainError {}
