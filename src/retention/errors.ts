import { DomainError } from '../domain-error';

/** Another retention run (another worker, replica or `berth retention`) holds the lease: one runs at a time. */
export class RetentionRunning extends DomainError {}
