/**
 * verify-restore: proves a backup by restoring it into scratch databases (`<db>_verify_<job id>`),
 * following each RESTORE job like the backup job, and comparing each restored table's row count
 * with SHOW BACKUP's. The scratch databases are dropped however it ends.
 */
import { pathKey, type ShowBackupRow } from '../backup-listing.js'
import { QueryError, type Session } from '../connection.js'
import { ActionError, describeError } from '../errors.js'
import { followToEnd, type JobContext, type JobId } from '../job.js'
import { databaseRestoreRefused, startRestoreJob } from '../detached-job.js'
import { VerificationError, type TableCheck, type Verification } from './verification.js'
import { showBackup, type BackupAddress } from '../show-backup.js'
import * as sql from '../sql.js'
import type { BackupTarget } from '../targets.js'

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
  rows: number
}

/** The tables SHOW BACKUP lists for one database, with its rows when there is a single (full) layer. */
export function expectedTables(rows: ShowBackupRow[], database: string): { tables: ExpectedTable[]; comparable: boolean } {
  const layers = new Set(rows.map(row => row.end_time)).size
  const tables = new Map<string, ExpectedTable>()
  for (const row of rows) {
    if (row.object_type !== 'table' || row.database_name !== database || row.object_name === null) continue
    const schema = row.parent_schema_name ?? 'public'
    const key = `${schema}\0${row.object_name}`
    tables.set(key, { schema, table: row.object_name, rows: (tables.get(key)?.rows ?? 0) + Number(row.rows ?? 0) })
  }
  return { tables: [...tables.values()], comparable: layers <= 1 }
}

export function describeMismatches(tables: TableCheck[]): string[] {
  return tables
    .filter(check => check.expected !== undefined && check.expected !== check.actual)
    .map(check => `${check.table}: ${check.expected} rows in the backup, ${check.actual} restored`)
}

const DROP_ATTEMPTS = 4
const DROP_RETRY_MS = 750
const FRESH_CONNECTION_TIMEOUT_MS = 2_500

/**
 * A RESTORE that was cancelled or failed cleans up its own descriptors, and while it does, its
 * database can refuse a DROP; a few short retries fit in the runner's grace period after a cancel.
 */
async function dropScratch(session: Session, name: string, log: (message: string) => void): Promise<string | undefined> {
  let lastError: unknown
  for (let attempt = 1; attempt <= DROP_ATTEMPTS; attempt++) {
    try {
      await session.query(sql.dropDatabaseIfExists(name), [], `dropping the scratch database ${name}`)
      log(`Dropped the scratch database ${name}.`)
      return undefined
    } catch (error) {
      lastError = error
      if (attempt < DROP_ATTEMPTS) await new Promise(resolve => setTimeout(resolve, DROP_RETRY_MS))
    }
  }
  return `The scratch database ${name} could not be dropped (${describeError(lastError)}); drop it by hand: ${sql.dropDatabaseIfExists(name)}`
}

const DUPLICATE_DATABASE = '42P04'

async function refuseExisting<T>(scratch: string, statement: Promise<T>): Promise<T> {
  try {
    return await statement
  } catch (error) {
    // CREATE DATABASE refuses with 42P04, RESTORE … new_db_name with XXUUU (databaseRestoreRefused).
    const exists = (error instanceof QueryError && error.code === DUPLICATE_DATABASE) || databaseRestoreRefused(error) !== undefined
    if (!exists) throw error
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
    doing: `starting the verification restore into ${restore.scratch}`
  }
  const jobId = await refuseExisting(restore.scratch, startRestoreJob(session, backup, request, options))
  // From here the scratch database is this restore's: RESTORE refuses a database that exists.
  if (!owned.includes(restore.scratch)) owned.push(restore.scratch)
  options.log(`Verification restore job ${jobId} started (into ${restore.scratch}).`)
  await followToEnd(session, jobId, options, 'Verification restore')
  return jobId
}

async function countRestored(
  session: Session,
  restore: ScratchRestore,
  tables: ExpectedTable[],
  comparable: boolean
): Promise<TableCheck[]> {
  const checks: TableCheck[] = []
  for (const table of tables) {
    const restoredAs = `${restore.scratch}.${table.schema}.${table.table}`
    const [row] = await session.query<{ count: string }>(
      sql.countRows(restore.scratch, table.schema, table.table),
      [],
      `counting the rows of ${restoredAs}`
    )
    checks.push({
      table: `${restore.source}.${table.schema}.${table.table}`,
      restoredAs,
      expected: comparable ? table.rows : undefined,
      actual: Number(row?.count ?? Number.NaN)
    })
  }
  return checks
}

/** The backup just made: where it is, what it holds, and the job that wrote it (named in the scratch databases). */
export interface MadeBackup extends BackupAddress {
  target: BackupTarget
  path: string
  jobId: JobId
}

/** Restores the new backup into scratch databases and compares row counts; throws when they differ. */
export async function verifyRestore(session: Session, made: MadeBackup, options: JobContext): Promise<Verification> {
  const backupRows = await showBackup(session, made, made.path, { checkFiles: false, timeoutMs: options.timeoutMs })
  const owned: string[] = []
  const verification: Verification = { verified: false, tables: [], countsCompared: true, restoreJobs: [] }
  let failure: Error | undefined
  try {
    for (const restore of scratchRestores(made.target, made.jobId)) {
      const { tables, comparable } = expectedTables(backupRows, restore.source)
      verification.countsCompared &&= comparable
      verification.restoreJobs.push(await restoreOne(session, made, made.path, restore, options, owned))
      verification.tables.push(...(await countRestored(session, restore, tables, comparable)))
    }
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error))
  }
  const dropProblems: string[] = []
  // After a failure (a cancelled workflow among them) this session may be cut off or stuck: the
  // drops go over a fresh connection that no cancel interrupts.
  const dropper =
    failure === undefined || owned.length === 0 ? session : await session.fresh(FRESH_CONNECTION_TIMEOUT_MS).catch(() => session)
  try {
    for (const name of owned) {
      const problem = await dropScratch(dropper, name, options.log)
      if (problem !== undefined) dropProblems.push(problem)
    }
  } finally {
    if (dropper !== session) await dropper.close()
  }
  if (failure !== undefined) {
    if (dropProblems.length === 0) throw failure
    throw new ActionError(`${failure.message}\n${dropProblems.join('\n')}`, undefined, { cause: failure })
  }
  const mismatches = describeMismatches(verification.tables)
  if (mismatches.length > 0 || dropProblems.length > 0) {
    throw new VerificationError(
      [
        ...(mismatches.length > 0 ? [`verify-restore: the restored row counts differ from the backup's:`, ...mismatches] : []),
        ...dropProblems
      ].join('\n'),
      verification
    )
  }
  if (!verification.countsCompared) {
    options.log(
      'verify-restore: the backup has incremental layers, whose SHOW BACKUP row counts are what each layer wrote, not the table size; the restore succeeded, row counts were not compared.'
    )
  }
  verification.verified = true
  return verification
}
