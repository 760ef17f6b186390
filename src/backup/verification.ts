/** What verify-restore found, as the report shows it: each table's counts, and the error that carries them. */
import { ActionError } from '../errors.js'
import type { JobId } from '../job.js'

export interface TableCheck {
  /** `db.schema.table` as backed up. */
  table: string
  /** `scratch.schema.table`. */
  restoredAs: string
  /** SHOW BACKUP's rows; undefined when the backup has incremental layers (see below). */
  expected: number | undefined
  actual: number
}

export interface Verification {
  verified: boolean
  tables: TableCheck[]
  /** False for a chain with incremental layers: a layer's `rows` counts what that layer wrote. */
  countsCompared: boolean
  restoreJobs: JobId[]
}

/** The restore worked but the counts differ: carries the comparison for the summary. */
export class VerificationError extends ActionError {
  constructor(
    message: string,
    readonly verification: Verification
  ) {
    super(message)
  }
}
