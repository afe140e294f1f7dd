import { DomainError } from '../domain-error';

/** Another collector (another worker, replica or `berth gc`) holds the lease: one runs at a time. */
export class CollectionRunning extends DomainError {}
