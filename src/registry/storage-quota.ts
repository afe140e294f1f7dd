import { StorageQuotaExceeded, VersionQuotaExceeded } from './errors';
import type { OwnerQuotaError, VersionLimitError } from '../metadata/metadata-index';

/**
 * The quotas pushes are held to (src/quotas, wired in src/composition-root.ts; design in src/quotas/quota-limits.ts).
 * The registry asks for the figures and hands them to the metadata index, which enforces them in the transaction
 * that links or records, so concurrent pushes cannot overshoot.
 */
export interface StorageQuota {
  /** The most bytes the repository's owner may use; undefined: unlimited. */
  maxOwnerBytes(repository: string): Promise<number | undefined>;
  /** The most live versions the repository (package) may have; undefined: unlimited. */
  maxVersions(repository: string): Promise<number | undefined>;
}

export const NO_QUOTA: StorageQuota = {
  maxOwnerBytes: () => Promise.resolve(undefined),
  maxVersions: () => Promise.resolve(undefined),
};

/** The refusal of a blob over its owner's quota, with the figures (the Docker engine prints the message). */
export function storageQuotaExceeded(owner: string, usedBytes: number, allowedBytes: number, neededBytes: number): StorageQuotaExceeded {
  return new StorageQuotaExceeded(
    `storage quota of ${owner} exceeded: ${usedBytes} bytes used, ${allowedBytes} allowed; this blob needs ${neededBytes} more`,
  );
}

export function fromOwnerQuotaError(err: OwnerQuotaError): StorageQuotaExceeded {
  return storageQuotaExceeded(err.owner, err.usedBytes, err.allowedBytes, err.neededBytes);
}

export function fromVersionLimitError(err: VersionLimitError): VersionQuotaExceeded {
  return new VersionQuotaExceeded(
    `version quota of ${err.repository} exceeded: it has ${err.limit} versions, ${err.limit} allowed; delete one to push another`,
  );
}
