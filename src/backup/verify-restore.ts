/**
 * verify-restore: proves a backup by restoring it into scratch databases (`<db>_verify_<job id>`),
 * following each RESTORE job like the backup job, and comparing each restored table's row count
 * with the source table's at the backup's end time (row-reference.ts). Views, materialized views
 * and sequences are named and skipped. The scratch databases are dropped however it ends.
 */
import { pathKey, type ShowBackupRow } from '../cluster/backup-listing.js'
import { QueryError, type Session } from '../cluster/connection.js'
import type { ExplicitAsOf } from '../cluster/as-of-system-time.js'
import { abortReason, ActionError, CancelledError } from '../base/errors.js'
import { followToEnd, type JobContext, type JobId } from '../cluster/job.js'
import { databaseRestoreRefused, startRestoreJob } from '../cluster/detached-job.js'
import { judge, referenceTime, sourceCount, type ReferenceTime } from './row-reference.js'
import { DropDeadline, dropScratch } from './scratch-drop.js'
import { VerificationError, type TableCheck, type Verification } from './verification.js'
import { showBackup, type BackupAddress } from '../cluster/show-backup.js'
import * as sql from '../cluster/sql/index.js'
import type { BackupTarget } from '../cluster/targets.js'

export function scratchDatabaseName(database: string, backupJobId: JobId): string {
  return `${database}_verify_${backupJobId}`
}

interface ScratchRestore {
  source: string
  scratch: string
  target: BackupTarget
}

/** One restore per source database: new_db_name takes one database, and into_db one destination. */
export function scratchRestores(target: BackupTarget, backupJobId: JobId): ScratchRestore[] {
  if (target.kind === 'databases') {
    return target.databases.map(database => ({
      source: database,
      scratch: scratchDatabaseName(database, backupJobId),
      target: { kind: 'databases', databases: [database] }
    }))
  }
  const databases = [...new Set(target.tables.map(table => table.parts[0] ?? ''))]
  return databases.map(database => ({
    source: database,
    scratch: scratchDatabaseName(database, backupJobId),
    target: { kind: 'tables', tables: target.tables.filter(table => table.parts[0] === database) }
  }))
}

interface ExpectedTable {
  schema: string
  table: string
  /** SHOW BACKUP's rows of the table in each layer, full first. */
  layerRows: number[]
}

/** The relations SHOW BACKUP lists as `table` for one database (views and sequences among them: each is a table descriptor). */
export function expectedTables(rows: ShowBackupRow[], database: string): ExpectedTable[] {
  const tables = new Map<string, ExpectedTable>()
  for (const row of rows) {
    if (row.object_type !== 'table' || row.database_name !== database || row.object_name === null) continue
    const schema = row.parent_schema_name ?? 'public'
    const key = `${schema}\0${row.object_name}`
    const table = tables.get(key) ?? { schema, table: row.object_name, layerRows: [] }
    table.layerRows.push(Number(row.rows ?? 0))
    tables.set(key, table)
  }
  return [...tables.values()]
}

export function describeMismatches(tables: TableCheck[]): string[] {
  return tables
    .filter(check => check.expected !== undefined && check.expected !== check.actual)
    .map(check => `${check.table}: ${check.expected} rows in the source at the backup's time, ${check.actual} restored`)
}

/**
 * CREATE DATABASE refuses an existing name with 42P04; RESTORE's planning with a plain
 * `errors.Errorf("database %q already exists")`, so XXUUU (pkg/backup/restore_planning.go).
 */
/** CREATE DATABASE refuses an existing database with 42P04, RESTORE … new_db_name with XXUUU. */
function isExistingDatabase(error: unknown): boolean {
  return (error instanceof QueryError && error.code === '42P04') || databaseRestoreRefused(error) !== undefined
}

async function refuseExisting<T>(scratch: string, statement: Promise<T>): Promise<T> {
  try {
    return await statement
  } catch (error) {
    if (!isExistingDatabase(error)) throw error
    throw new ActionError(
      `The scratch database ${scratch} already exists; verify-restore never drops a database it did not create.`,
      `Drop it by hand if it is a leftover: ${sql.dropDatabaseIfExists(scratch)}`
    )
  }
}

async function restoreOne(
  session: Session,
  backup: BackupAddress,
  path: string,
  restore: ScratchRestore,
  options: JobContext,
  owned: string[]
): Promise<JobId> {
  // No SHOW DATABASES check first: from v22.2 it hides databases without CONNECT. CREATE DATABASE
  // (42P04) and RESTORE … new_db_name (XXUUU) both refuse an existing database, which is never dropped.
  if (restore.target.kind === 'tables') {
    await refuseExisting(
      restore.scratch,
      session.query(sql.createDatabase(restore.scratch), [], `creating the scratch database ${restore.scratch}`)
    )
    owned.push(restore.scratch)
  }
  const request = {
    target: restore.target,
    path: pathKey(path),
    newDbName: restore.target.kind === 'databases' ? restore.scratch : undefined,
    intoDb: restore.target.kind === 'tables' ? restore.scratch : undefined,
    doing: `starting the verification restore into ${restore.scratch}`,
    // <db>_verify_<this step's backup job id>: no other run writes this name into a RESTORE.
    ownName: restore.scratch
  }
  const jobId = await refuseExisting(restore.scratch, startRestoreJob(session, backup, request, options))
  // From here the scratch database is this restore's: RESTORE refuses a database that exists.
  if (!owned.includes(restore.scratch)) owned.push(restore.scratch)
  options.log(`Verification restore job ${jobId} started (into ${restore.scratch}).`)
  await followToEnd(session, jobId, options, 'Verification restore')
  return jobId
}

/** Why a relation that SHOW BACKUP lists as a table has no row count to compare. */
const SKIPPED_BECAUSE: Record<string, string> = {
  view: 'a view holds no rows of its own (SHOW BACKUP lists it with 0 rows; count(*) runs its query)',
  'materialized view': "a materialized view holds its query's stored result, not rows of its own",
  sequence: 'a sequence holds its current value, not rows'
}

/** SHOW TABLES' `type` of each relation restored into the scratch database, by `schema\0name`. */
async function restoredKinds(session: Session, scratch: string, schemas: string[]): Promise<Map<string, string>> {
  const kinds = new Map<string, string>()
  for (const schema of new Set(schemas)) {
    const rows = await session.query<{ table_name: string; type: string }>(
      sql.relationKinds(scratch, schema),
      [],
      `listing the relations restored into ${scratch}.${schema}`
    )
    for (const row of rows) kinds.set(`${schema}\0${row.table_name}`, row.type)
  }
  return kinds
}

async function checkRestored(
  session: Session,
  made: MadeBackup,
  restore: ScratchRestore,
  tables: ExpectedTable[],
  time: ReferenceTime | undefined,
  verification: Verification,
  options: JobContext
): Promise<void> {
  const kinds = await restoredKinds(
    session,
    restore.scratch,
    tables.map(table => table.schema)
  )
  const soundBackupRows = !made.revisionHistory
  for (const table of tables) {
    const name = `${restore.source}.${table.schema}.${table.table}`
    const kind = kinds.get(`${table.schema}\0${table.table}`) ?? 'table'
    if (kind !== 'table') {
      const why = SKIPPED_BECAUSE[kind] ?? `SHOW TABLES calls it a ${kind}`
      verification.skipped.push({ table: name, kind, why })
      options.log(`verify-restore: ${name} is a ${kind}, not compared: ${why}.`)
      continue
    }
    const restoredAs = `${restore.scratch}.${table.schema}.${table.table}`
    const [row] = await session.query<{ count: string }>(
      sql.countRows(restore.scratch, table.schema, table.table),
      [],
      `counting the rows of ${restoredAs}`,
      options.timeoutMs
    )
    const actual = Number(row?.count ?? Number.NaN)
    const source = await sourceCount(session, { database: restore.source, ...table }, time, actual, options.timeoutMs)
    const { expected, note } = judge(actual, source, table.layerRows, soundBackupRows)
    if (note !== undefined) options.log(`verify-restore: ${name}: ${note}.`)
    verification.tables.push({ table: name, restoredAs, expected, actual, note })
  }
}

/** The backup just made: where it is, what it holds, its time, and the job that wrote it (named in the scratch databases). */
export interface MadeBackup extends BackupAddress {
  target: BackupTarget
  path: string
  jobId: JobId
  /** The BACKUP statement's AS OF SYSTEM TIME: when exact, the time the source is read at. */
  asOf: ExplicitAsOf | undefined
  revisionHistory: boolean
}

/** Restores the new backup into scratch databases and compares row counts; throws when they differ. */
export async function verifyRestore(session: Session, made: MadeBackup, options: JobContext): Promise<Verification> {
  const deadline = new DropDeadline(options.signal)
  try {
    return await verifyAndDrop(session, made, options, deadline)
  } finally {
    deadline.dispose()
  }
}

async function verifyAndDrop(session: Session, made: MadeBackup, options: JobContext, deadline: DropDeadline): Promise<Verification> {
  const backupRows = await showBackup(session, made, made.path, { checkFiles: false, timeoutMs: options.timeoutMs })
  const owned: string[] = []
  const time = referenceTime(made.asOf, backupRows)
  const verification: Verification = { verified: false, tables: [], skipped: [], restoreJobs: [] }
  let failure: Error | undefined
  try {
    for (const restore of scratchRestores(made.target, made.jobId)) {
      const tables = expectedTables(backupRows, restore.source)
      verification.restoreJobs.push(await restoreOne(session, made, made.path, restore, options, owned))
      await checkRestored(session, made, restore, tables, time, verification, options)
    }
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error))
  }
  deadline.begin()
  const dropProblems: string[] = []
  for (const name of owned) {
    const problem = await dropScratch(session, name, deadline, options.log)
    if (problem !== undefined) dropProblems.push(problem)
  }
  // Cancelled while the last drop ran: nothing after verify-restore (keep-backups deletes) may start.
  if (failure === undefined && options.signal?.aborted) failure = new CancelledError(abortReason(options.signal), 'verifying the restore')
  if (failure !== undefined) {
    if (dropProblems.length === 0) throw failure
    throw new ActionError(`${failure.message}\n${dropProblems.join('\n')}`, undefined, { cause: failure })
  }
  const mismatches = describeMismatches(verification.tables)
  if (mismatches.length > 0 || dropProblems.length > 0) {
    throw new VerificationError(
      [
        ...(mismatches.length > 0
          ? [`verify-restore: the restored row counts differ from the source's at the backup's time:`, ...mismatches]
          : []),
        ...dropProblems
      ].join('\n'),
      verification
    )
  }
  verification.verified = true
  return verification
}
