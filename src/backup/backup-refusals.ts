/**
 * What a refused BACKUP means, said so a user can act on it: a missing licence, and a target that
 * does not exist (a wrong name, with what the session can see; or one created after the backup's
 * time).
 */
import { describeBackupTime, type BackupTime } from './backup-time.js'
import { QueryError, type Session } from '../cluster/connection.js'
import { ActionError } from '../base/errors.js'
import { JobError } from '../cluster/job.js'
import * as sql from '../cluster/sql/index.js'
import type { BackupTarget } from '../cluster/targets.js'
import { missingTargetHint } from '../cluster/what-exists.js'

/** pkg/ccl/utilccl CheckEnterpriseEnabled: XXC02 at planning, or this text in a job's error (v22.1+ resolves LATEST in the job). */
const LICENCE_TEXT = /requires an enterprise license/i

const LICENCE_HINT =
  'Up to v22.2, and on v23.1/v23.2 patches from before the late-2024 licence change, incremental, ' +
  'revision-history and encryption-passphrase need an enterprise licence (SET CLUSTER SETTING enterprise.license). ' +
  'Install one, upgrade to a patch or version that includes these features, or run without those inputs.'

export function withLicenceHint(error: unknown): unknown {
  if (error instanceof QueryError && (error.code === 'XXC02' || LICENCE_TEXT.test(error.message))) {
    return new ActionError(error.message, LICENCE_HINT, { cause: error })
  }
  if (error instanceof JobError && error.reason === 'failed' && LICENCE_TEXT.test(error.message)) {
    return new JobError(error.message, error.reason, LICENCE_HINT)
  }
  return error
}

/**
 * `failed to resolve targets specified in the BACKUP stmt: database "bank" does not exist…` (facts §3):
 * XXUUU up to v26.1, with or without `, or invalid RESTORE timestamp: …`; from v26.2 (PR #157790)
 * a missing database may keep the catalog's own code (3D000, or 42P01 for a relation).
 */
export function isMissingTarget(error: unknown): error is QueryError {
  if (!(error instanceof QueryError)) return false
  if (error.code === 'XXUUU') return /failed to resolve targets[\s\S]*does not exist/.test(error.message)
  return (error.code === '3D000' || error.code === '42P01') && /does not exist/.test(error.message)
}

async function exists(session: Session, statement: string, name: string, what: string): Promise<boolean> {
  const rows = await session.query(statement, [name], `checking whether ${what} exists now`)
  return rows.length > 0
}

/** Whether every target exists now: the table's database, and the table itself unless it is `db.*`. */
async function everyTargetExistsNow(session: Session, target: BackupTarget): Promise<boolean> {
  const databases = target.kind === 'databases' ? target.databases : target.tables.map(table => table.parts[0] ?? '')
  for (const database of new Set(databases)) {
    if (!(await exists(session, sql.DATABASE_EXISTS, database, `database ${database}`))) return false
  }
  if (target.kind === 'databases') return true
  for (const { parts } of target.tables) {
    const [database = '', schema, table = ''] = parts.length === 3 ? parts : [parts[0], 'public', parts[1]]
    if (table === '*') continue
    if (!(await exists(session, sql.tableExists(database, schema), table, `table ${parts.join('.')}`))) return false
  }
  return true
}

/**
 * A target missing at an earlier AS OF SYSTEM TIME that exists now was created after that time (a
 * database made by the workflow seconds before the step); say so instead of CockroachDB's generic
 * message, which reads like a wrong name. CockroachDB names only the first missing target, so this
 * holds when every target exists now; otherwise some name is wrong and its error stands.
 */
export async function explainMissingTarget(session: Session, target: BackupTarget, time: BackupTime, error: QueryError): Promise<never> {
  const requested = time.requested
  if (requested === undefined || requested.kind === 'step-start') throw await withWhatExists(session, target, error)
  let existsNow: boolean
  try {
    existsNow = await everyTargetExistsNow(session, target)
  } catch {
    // The check itself failed (a schema that does not exist, say): the original error is the one to show.
    throw await withWhatExists(session, target, error)
  }
  if (!existsNow) throw await withWhatExists(session, target, error)
  const names = target.kind === 'databases' ? target.databases : target.tables.map(table => table.parts.join('.'))
  const noun = target.kind === 'databases' ? 'Database' : 'Table'
  const what =
    names.length === 1
      ? `${noun} "${names[0]}" exists now but did not exist yet`
      : `${noun}s ${names.map(name => `"${name}"`).join(', ')} exist now, but one did not exist yet`
  throw new ActionError(
    `${what} AS OF SYSTEM TIME ${describeBackupTime(time)}: it was created after that time, so a backup as of then cannot contain it.\n${error.message}`,
    'Back up with as-of-system-time: step-start (the default) to include every write committed before the step, ' +
      'or give a time after the target was created.',
    { cause: error }
  )
}

/** A wrong name: CockroachDB's error, with a hint naming what was asked for and what the session can see. */
async function withWhatExists(session: Session, target: BackupTarget, error: QueryError): Promise<unknown> {
  const hint = await missingTargetHint(session, target)
  return hint === undefined ? error : new ActionError(error.message, hint, { cause: error })
}
