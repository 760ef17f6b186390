/**
 * BACKUP and RESTORE as statements: plan (errors come back from the statement), create the job, and
 * unless detached wait for it and answer its result row. What they plan and write is in backup.ts
 * and restore.ts; the jobs run in jobs.ts.
 */
import { describeBackup, planBackup, resolveDestination, writeBackup } from './backup.js'
import type { Cluster, Job } from './cluster.js'
import type { CrdbError } from './errors.js'
import type { JobRegistry } from './jobs.js'
import { redactSecrets } from './lexer.js'
import { applyRestore, planRestore } from './restore.js'
import type { ColumnDef, Row } from './show.js'
import type { BackupStatement, RestoreStatement, Value } from './statements.js'
import type { Session } from './wire.js'

/** BACKUP and RESTORE share their result headers (jobs.BulkJobExecutionResultHeader / BackupRestoreJobResultHeader). */
export function backupResultColumns(cluster: Cluster, statement: { options: { detached: boolean } }): ColumnDef[] {
  if (statement.options.detached) return [{ name: 'job_id', type: 'INT8' }]
  return cluster.profile.backupResultColumns.split(',').map(name => ({
    name,
    type: name === 'status' ? 'STRING' : name === 'fraction_completed' ? 'FLOAT8' : 'INT8'
  }))
}

/** Waits for the job; its error is the statement's, else the result row in this version's columns. */
async function jobResult(
  cluster: Cluster,
  job: Job,
  done: Promise<CrdbError | undefined>,
  tag: string
): Promise<{ rows: Row[]; tag: string }> {
  const error = await done
  if (error) throw error
  const { rows, indexEntries, bytes } = job.result
  const all: Record<string, string> = {
    job_id: job.id,
    status: job.status,
    fraction_completed: String(job.fractionCompleted),
    rows: String(rows),
    index_entries: String(indexEntries),
    bytes: String(bytes)
  }
  return { rows: [cluster.profile.backupResultColumns.split(',').map(name => all[name] ?? null)], tag }
}

export async function runRestore(
  cluster: Cluster,
  jobs: JobRegistry,
  statement: RestoreStatement,
  text: (v: Value) => string,
  session: Session,
  sql: string,
  detachedNeverStarts: boolean
): Promise<{ rows: Row[]; tag: string }> {
  const plan = planRestore(cluster, statement, text, session.user, redactSecrets(sql))
  const neverStarts = statement.detached && detachedNeverStarts
  const { job, done } = jobs.create(
    session.user,
    plan.description,
    running => {
      const { rows, bytes } = applyRestore(cluster, plan)
      running.result = { rows, indexEntries: 0, bytes }
    },
    { neverStarts }
  )
  job.type = 'RESTORE'
  if (statement.detached) return { rows: [[job.id]], tag: 'RESTORE 1' }
  return jobResult(cluster, job, done, 'RESTORE 1')
}

export async function runBackup(
  cluster: Cluster,
  jobs: JobRegistry,
  statement: BackupStatement,
  text: (v: Value) => string,
  session: Session,
  detachedNeverStarts: boolean
): Promise<{ rows: Row[]; tag: string }> {
  const destination = statement.destination
  const plan = planBackup(cluster, {
    statement,
    collection: text(statement.collection),
    subdir: destination.kind === 'subdir' ? text(destination.subdir) : undefined,
    asOf: statement.asOf?.kind === 'value' ? text(statement.asOf.value) : undefined,
    passphrase: statement.options.passphrase && text(statement.options.passphrase),
    user: session.user,
    database: session.database
  })
  const { job, done } = jobs.create(
    session.user,
    describeBackup(cluster, plan),
    running => {
      running.result = writeBackup(cluster, plan, plan.resolved ?? resolveDestination(cluster, plan), running.id)
    },
    { neverStarts: plan.detached && detachedNeverStarts }
  )
  if (plan.detached) return { rows: [[job.id]], tag: 'BACKUP 1' }
  return jobResult(cluster, job, done, 'BACKUP 1')
}
