/** Statements about jobs: one job's state, recent jobs, a cancel. */

const JOB_ID = /^[0-9]{1,20}$/

function validJobId(jobId: string): string {
  if (!JOB_ID.test(jobId)) throw new Error(`not a job id: ${jobId}`)
  return jobId
}

/**
 * One job's state through SHOW JOB, the supported interface: v26.1+ refuses the internal schemas
 * to ordinary sessions (PR #158085). SHOW JOB has these columns in every version from v21.2
 * (pkg/sql/delegate/show_jobs.go). The id is inlined, not bound: the delegate prints the id
 * expression into the query it builds, and a placeholder there was not confirmed for every version.
 */
export function jobStatus(jobId: string): string {
  return `SELECT status, fraction_completed, error, description FROM [SHOW JOB ${validJobId(jobId)}]`
}

/**
 * Jobs of one type (BACKUP, RESTORE) that one user created since a cluster time. SHOW JOBS is the
 * supported interface (the internal schemas are restricted from v26.1); it lists the last 12 hours.
 * From v24.1 it shows `created` truncated to the second and long descriptions abbreviated
 * (pkg/sql/delegate/show_jobs.go), so this is only a loose first cut: SHOW JOB <id> has the whole
 * description.
 */
export const RECENT_JOBS =
  'SELECT job_id, description FROM [SHOW JOBS] WHERE job_type = $1 AND user_name = $2 AND created >= $3::TIMESTAMPTZ'

export function cancelJob(jobId: string): string {
  return `CANCEL JOB ${validJobId(jobId)}`
}
