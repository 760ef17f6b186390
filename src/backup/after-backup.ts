/**
 * What the backup action does with a verified backup when the inputs ask for it, in this order:
 * download it, verify it by restoring, then delete older backups (last, so nothing is deleted
 * unless the backup, its download and its verification succeeded). The first failure stops the
 * rest and is handed to the report, which says what is known before the step fails.
 */
import type { JobContext } from '../cluster/job.js'
import type { Session } from '../cluster/connection.js'
import { downloadBackup } from './download.js'
import * as log from '../base/log.js'
import type { AfterBackup, AfterBackupPhase, BackupPlan, BackupResult } from './plan.js'
import type { StepProgress } from '../step/progress.js'
import { applyRetention, RetentionError } from './retention.js'
import { verifyRestore } from './verify-restore.js'

export async function afterBackup(
  session: Session,
  plan: BackupPlan,
  result: BackupResult,
  context: JobContext & { progress: StepProgress }
): Promise<AfterBackup> {
  const after: AfterBackup = {}
  const phase = async (name: AfterBackupPhase, group: string, work: () => Promise<void>): Promise<void> => {
    if (after.failed !== undefined) return
    context.progress.enter(group)
    await work().catch((error: unknown) => {
      after.failed = { phase: name, error }
    })
  }
  const { download, retention } = plan
  if (download !== undefined) {
    await phase('download', 'Download', async () => {
      after.download = await downloadBackup(session, download.location, result.path, download.directory, context.log, {
        version: session.info.version,
        warn: log.warning,
        connections: download.connections
      })
    })
  }
  if (plan.verifyRestore) {
    await phase('verify-restore', 'Verify by restoring', async () => {
      after.verification = await verifyRestore(session, { ...plan, path: result.path, jobId: result.jobId }, context)
    })
  }
  if (retention !== undefined) {
    await phase('keep-backups', 'Keep backups', async () => {
      after.deletedBackups = []
      try {
        const { deleted } = await applyRetention(
          session,
          { ...plan, location: retention.location },
          retention.keep,
          result.path,
          context.log
        )
        after.deletedBackups = deleted
      } catch (error) {
        if (error instanceof RetentionError) {
          after.deletedBackups = error.deleted
          after.retentionStopped = error.stopped
        }
        throw error
      }
    })
  }
  return after
}
