import { DomainError } from '../domain-error';

/** An image archive Berth cannot import as sent: malformed, unsafe or incomplete. Nothing of it is kept. */
export class ArchiveInvalid extends DomainError {}

/** Another registry refused or failed a promotion: `failed` names the blob or manifest (digest or tag) it stopped at. */
export class RemotePromotionFailed extends DomainError {}
