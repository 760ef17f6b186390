/**
 * The jobs as SQL: SHOW JOB n, and a column list (or `*`) from [SHOW JOB n], [SHOW JOBS] (with the
 * WHERE conditions the action uses) or crdb_internal.jobs, answered from the cluster's jobs. CANCEL
 * JOB's id is read here too; the jobs themselves run in jobs.ts.
 */
import type { Cluster, Job } from './cluster.js'
import { invalidInt, undefinedColumn } from './errors.js'
import { formatTimestamp, type ColumnDef, type Row } from './show.js'
import type { JobCondition, JobsSource, Statement, Value } from './statements.js'

type SelectJobs = Extract<Statement, { kind: 'select-jobs' }>

const BASE_JOB_COLUMNS: ColumnDef[] = [
  { name: 'job_id', type: 'INT8' },
  { name: 'job_type', type: 'STRING' },
  { name: 'description', type: 'STRING' },
  { name: 'statement', type: 'STRING' },
  { name: 'user_name', type: 'STRING' },
  { name: 'status', type: 'STRING' },
  { name: 'running_status', type: 'STRING' },
  { name: 'created', type: 'TIMESTAMP' },
  { name: 'started', type: 'TIMESTAMP' },
  { name: 'finished', type: 'TIMESTAMP' },
  { name: 'modified', type: 'TIMESTAMP' },
  { name: 'fraction_completed', type: 'FLOAT8' },
  { name: 'error', type: 'STRING' },
  { name: 'coordinator_id', type: 'INT8' }
]

const TRACE_ID: ColumnDef = { name: 'trace_id', type: 'INT8' }
const EXECUTION_ERRORS: ColumnDef = { name: 'execution_errors', type: 'STRING[]' }
const RETRY_COLUMNS: ColumnDef[] = [
  { name: 'last_run', type: 'TIMESTAMP' },
  { name: 'next_run', type: 'TIMESTAMP' },
  { name: 'num_runs', type: 'INT8' }
]

/** crdb_internal.jobs itself, SHOW JOB <id>, or the SHOW JOBS listing (show_jobs.go shapes the last two). */
export type JobView = 'table' | 'show-job' | 'show-jobs'

export function jobViewOf(source: JobsSource): JobView {
  return source.kind === 'crdb_internal.jobs' ? 'table' : source.kind
}

/**
 * The columns of a job view per version (pkg/sql/delegate/show_jobs.go; see the profile's
 * showJobColumns). crdb_internal.jobs is given SHOW JOB's columns, `started` always: it has at least those.
 */
export function jobColumns(cluster: Cluster, view: JobView): ColumnDef[] {
  const { profile } = cluster
  const withIds = view !== 'show-jobs'
  const extra =
    profile.showJobColumns === 'trace-id'
      ? [TRACE_ID]
      : profile.showJobColumns === 'execution-columns'
        ? [TRACE_ID, ...RETRY_COLUMNS, EXECUTION_ERRORS]
        : withIds
          ? [TRACE_ID, EXECUTION_ERRORS]
          : []
  const base = BASE_JOB_COLUMNS.filter(
    c =>
      !(c.name === 'statement' && profile.showJobColumns === 'ids-only-extras' && !withIds) &&
      !(c.name === 'started' && !profile.showJobsHasStarted && view !== 'table')
  )
  const time = profile.jobsTimestampType
  return [...base, ...extra].map(c => (c.type === 'TIMESTAMP' ? { ...c, type: time } : c))
}

/** v24.1+ SHOW JOBS: `CASE WHEN length(description) > 70 THEN concat(substr(description, 0, 60)||' … '||right(description, 7))`. */
function abbreviated(description: string): string {
  const chars = Array.from(description) // code points: length() and substr() count runes
  return chars.length > 70 ? `${chars.slice(0, 59).join('')} … ${chars.slice(-7).join('')}` : description
}

function jobRow(cluster: Cluster, job: Job, columns: ColumnDef[], view: JobView): Row {
  const { profile } = cluster
  const time = profile.jobsTimestampType
  const truncate = view !== 'table' && profile.showJobsTruncatesTimes
  const instant = (d: Date): number => (truncate ? Math.floor(d.getTime() / 1000) * 1000 : d.getTime())
  const ts = (d: Date | undefined): string | null => (d ? formatTimestamp(instant(d), time) : null)
  const values: Record<string, string | null> = {
    job_id: job.id,
    job_type: job.type,
    description: view === 'show-jobs' && profile.showJobsAbbreviatesDescriptions ? abbreviated(job.description) : job.description,
    statement: '',
    user_name: job.user,
    status: job.status,
    running_status: null,
    created: ts(job.created),
    started: ts(job.started),
    finished: ts(job.finished),
    modified: ts(job.modified),
    fraction_completed: String(job.fractionCompleted),
    error: job.error,
    coordinator_id: '1',
    trace_id: '0',
    last_run: ts(job.started),
    next_run: null,
    num_runs: '1',
    execution_errors: '{}'
  }
  return columns.map(c => values[c.name] ?? null)
}

/** One WHERE condition on a [SHOW JOBS] row; times compare as instants. */
function jobMatches(cluster: Cluster, job: Job, condition: JobCondition, value: string): boolean {
  const [column] = selectColumns(jobColumns(cluster, 'show-jobs'), [condition.column])
  const cell = jobRow(cluster, job, column ? [column] : [], 'show-jobs')[0] ?? null
  if (cell === null) return false
  if (condition.op === '=') return cell === value
  const instant = (text: string): number => {
    const iso = text.replace(' ', 'T')
    if (/[+-]\d\d$/.test(iso)) return Date.parse(`${iso}:00`)
    return Date.parse(/(Z|[+-]\d\d:\d\d)$/.test(iso) ? iso : `${iso}Z`) // TIMESTAMP: UTC
  }
  return instant(cell) >= instant(value)
}

export function selectColumns(all: ColumnDef[], wanted: string[] | '*'): ColumnDef[] {
  if (wanted === '*') return all
  return wanted.map(name => {
    const column = all.find(c => c.name === name)
    if (!column) throw undefinedColumn(name)
    return column
  })
}

/** A job id from a literal or parameter: an INT8's text, else CockroachDB's parse error. */
export function jobIdOf(value: Value, text: (v: Value) => string): string {
  const id = text(value).trim()
  if (!/^-?\d+$/.test(id)) throw invalidInt(id)
  return id
}

export function selectJobs(cluster: Cluster, statement: SelectJobs, text: (v: Value) => string): { rows: Row[]; tag: string } {
  const source = statement.from
  const columns = selectColumns(jobColumns(cluster, jobViewOf(source)), statement.columns)
  if (source.kind === 'show-jobs') {
    const rows = [...cluster.jobs.values()]
      .filter(job => source.where.every(condition => jobMatches(cluster, job, condition, text(condition.value))))
      .map(job => jobRow(cluster, job, columns, 'show-jobs'))
    return { rows, tag: `SELECT ${rows.length}` }
  }
  const wanted = source.jobId === undefined ? undefined : jobIdOf(source.jobId, text)
  const jobs = [...cluster.jobs.values()].filter(job => wanted === undefined || job.id === wanted)
  const rows = jobs.map(job => jobRow(cluster, job, columns, source.kind === 'show-job' ? 'show-job' : 'table'))
  return { rows, tag: `SELECT ${rows.length}` }
}

export function showJob(cluster: Cluster, jobId: Value, text: (v: Value) => string): { rows: Row[]; tag: string } {
  const job = cluster.jobs.get(jobIdOf(jobId, text))
  const rows = job ? [jobRow(cluster, job, jobColumns(cluster, 'show-job'), 'show-job')] : []
  return { rows, tag: `SHOW JOBS ${rows.length}` }
}
