import type { NamedLease } from '../persistence/sql-named-lease';

/** The collector's lease (gc_leases): one collector at a time across workers and replicas. */
export type CollectorLease = NamedLease;
