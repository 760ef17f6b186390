/** What verify-restore found, as the report shows it: each table's counts, and the error that carries them. */
import { ActionError } from '../base/errors.js'
import type { JobId } from '../cluster/job.js'

export interface TableCheck {
  /** `db.schema.table` as backed up. */
  table: string
  /** `scratch.schema.table`. */
  restoredAs: string
  /** The source's rows at the backup's end time (row-reference.ts); undefined when not compared. */
  expected: number | undefined
  actual: number
  /** Why it was not compared, or what it was compared with instead. */
  note?: string
}

/** A relation SHOW BACKUP lists as a table that holds no rows of its own to compare. */
export interface SkippedRelation {
  table: string
  /** SHOW TABLES' type: view, materialized view, sequence. */
  kind: string
  why: string
}

export interface Verification {
  verified: boolean
  tables: TableCheck[]
  skipped: SkippedRelation[]
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
