import type { Database } from '../../persistence/database';
import { SqlNamedLease } from '../../persistence/sql-named-lease';

/** The lease as one row of gc_leases (GC_MIGRATIONS). */
export class SqlCollectorLease extends SqlNamedLease {
  constructor(db: Database) {
    super(db, 'gc_leases', 'collector');
  }
}
