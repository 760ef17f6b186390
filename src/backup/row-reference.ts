/**
 * What a restored table's row count is compared with. SHOW BACKUP's `rows` is what the export
 * counted: a layer's changes for an incremental, every revision (tombstones of deleted rows too) for
 * revision_history, 0 for a view. The sound reference is the source table itself, read AS OF SYSTEM
 * TIME the backup's end time; SHOW BACKUP's `rows` only stands in for it when that time can no
 * longer be read and the backup is one full layer without revision history.
 */
import type { ExplicitAsOf } from '../cluster/as-of-system-time.js'
import { normalizeTimestamp, type ShowBackupRow } from '../cluster/backup-listing.js'
import { QueryError, type Session } from '../cluster/connection.js'
import { formatHlc } from './hlc.js'
import * as sql from '../cluster/sql/index.js'

/**
 * The backup's end time as AS OF SYSTEM TIME reads it. Exact when the BACKUP statement named it (a
 * decimal or a timestamp); otherwise SHOW BACKUP's `end_time`, which drops the logical part and is
 * printed to the microsecond, so a read on either side of that microsecond (`around`).
 */
export type ReferenceTime = { exact: string } | { around: [string, string] }

const END_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/

function endTimeNs(text: string): bigint | undefined {
  const match = END_TIME.exec(normalizeTimestamp(text))
  if (!match?.[1]) return undefined
  const ms = Date.parse(`${match[1]}Z`)
  if (Number.isNaN(ms)) return undefined
  return BigInt(ms) * 1_000_000n + BigInt((match[2] ?? '').padEnd(9, '0').slice(0, 9))
}

export function referenceTime(asOf: ExplicitAsOf | undefined, rows: ShowBackupRow[]): ReferenceTime | undefined {
  if (asOf?.kind === 'hlc' || asOf?.kind === 'timestamp') return { exact: asOf.value }
  const ends = rows.flatMap(row => (row.end_time === null ? [] : [endTimeNs(row.end_time)])).filter(end => end !== undefined)
  if (ends.length === 0) return undefined
  const newest = ends.reduce((a, b) => (a > b ? a : b))
  const at = (wallNs: bigint): string => formatHlc({ wallNs, logical: 0n })
  return { around: [at(newest - 1_000n), at(newest + 1_000n)] }
}

/** The source table's count(s) at the backup's end time, or why they cannot be read. */
export type SourceCount = { counts: number[] } | { unreadable: string }

const GC_THRESHOLD = /must be after replica GC threshold/i
const INSUFFICIENT_PRIVILEGE = '42501'

async function countAt(session: Session, table: SourceTable, asOf: string, timeoutMs: number): Promise<number> {
  const [row] = await session.query<{ count: string }>(
    sql.countRowsAsOf(table.database, table.schema, table.table, asOf),
    [],
    `counting the rows of ${table.database}.${table.schema}.${table.table} as of the backup's end time`,
    timeoutMs
  )
  return Number(row?.count ?? Number.NaN)
}

export interface SourceTable {
  database: string
  schema: string
  table: string
}

/**
 * The source's count at the end time; around an inexact time, the second read only when the first
 * differs from what was restored. A time below the GC threshold, or a table the user may back up but
 * not read, is no fault of the backup: the reason is returned instead.
 */
export async function sourceCount(
  session: Session,
  table: SourceTable,
  time: ReferenceTime | undefined,
  restored: number,
  timeoutMs: number
): Promise<SourceCount> {
  if (time === undefined) return { unreadable: "SHOW BACKUP gave no end time to read the source's rows at" }
  const times = 'exact' in time ? [time.exact] : time.around
  const counts: number[] = []
  try {
    for (const at of times) {
      counts.push(await countAt(session, table, at, timeoutMs))
      if (counts.includes(restored)) break
    }
  } catch (error) {
    if (!(error instanceof QueryError)) throw error
    if (GC_THRESHOLD.test(error.message)) {
      return {
        unreadable: "the backup's end time is older than the source's GC threshold (gc.ttlseconds), so its rows then can no longer be read"
      }
    }
    if (error.code === INSUFFICIENT_PRIVILEGE) return { unreadable: 'this user may not read the source table (no SELECT privilege)' }
    throw error
  }
  return { counts }
}

export interface Judgement {
  expected: number | undefined
  /** Why the count was not compared, or what it was compared with instead of the source. */
  note: string | undefined
}

/**
 * `backupRows`: SHOW BACKUP's rows of the table in each layer; `soundBackupRows`: whether they could
 * be the table's size (one full layer, no revision history), for the note only.
 */
export function judge(restored: number, source: SourceCount, backupRows: number[], soundBackupRows: boolean): Judgement {
  if ('counts' in source) {
    if (source.counts.includes(restored)) return { expected: restored, note: undefined }
    // exclude_data_from_backup: the backup holds no rows of the table, and restores none.
    if (restored === 0 && backupRows.every(rows => rows === 0)) {
      return { expected: undefined, note: 'the backup holds no rows of it (exclude_data_from_backup)' }
    }
    return { expected: source.counts[0], note: undefined }
  }
  // SHOW BACKUP's rows are no reference to fail on: getTableSizes credits a whole backup file's rows
  // to the table its first key belongs to (facts §21, second reading R3-1), so they are only shown.
  const [full] = backupRows
  const listed =
    soundBackupRows && backupRows.length === 1 && full !== undefined
      ? ` (SHOW BACKUP lists ${full} rows for it${full === restored ? ', as many as were restored' : ", but it credits each backup file's rows to one table, so that is no proof of a loss"})`
      : ''
  return { expected: undefined, note: `not compared: ${source.unreadable}${listed}` }
}
