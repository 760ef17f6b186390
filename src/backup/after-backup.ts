/**
 * What the backup action does with a verified backup when the inputs ask for it, in this order:
 * download it, verify it by restoring, then delete older backups (last, so nothing is deleted
 * unless the backup, its download and its verification succeeded).
 */
import type { Session } from '../connection.js'
import { downloadBackup } from './download.js'
import * as log from '../log.js'
import type { BackupPlan, BackupResult } from './plan.js'
import { reportFailedVerification, setBackupOutputs, type AfterBackup } from './report.js'
import { applyRetention } from './retention.js'
import type { StepContext } from '../step.js'
import { verifyRestore } from './verify-restore.js'

export async function afterBackup(session: Session, plan: BackupPlan, result: BackupResult, context: StepContext): Promise<AfterBackup> {
  const after: AfterBackup = {}
  if (plan.download !== undefined) {
    context.progress.enter('Download')
    const { directory, location } = plan.download
    after.download = await downloadBackup(session, location, result.path, directory, context.log, {
      version: session.info.version,
      warn: log.warning
    }).catch((error: unknown) => {
      // The backup exists and is verified: say where it is, then fail for the download.
      setBackupOutputs(plan, result)
      throw error
    })
  }
  if (plan.verifyRestore) {
    context.progress.enter('Verify by restoring')
    after.verification = await verifyRestore(session, plan, result, context).catch(async (error: unknown) => {
      await reportFailedVerification(error)
      throw error
    })
  }
  if (plan.retention !== undefined) {
    context.progress.enter('Keep backups')
    const { keep, location } = plan.retention
    const retention = await applyRetention(session, { ...plan, location }, keep, result.path, context.log)
    after.deletedBackups = retention.deleted
  }
  return after
}
