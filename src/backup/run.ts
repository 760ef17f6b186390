import { planBackup, takeBackup } from './plan.js'
import { chooseBackupTime, explainEndTime } from './backup-time.js'
import { Inputs } from '../constants.js'
import { checkDownloadPath, downloadBackup, type DownloadResult } from './download.js'
import { getInputs, noticeAboutDownload } from './inputs.js'
import * as log from '../log.js'
import { makeReport, reportFailedVerification, setBackupOutputs, setOutputs, writeSummary } from './report.js'
import { applyRetention } from './retention.js'
import { runStep } from '../step.js'
import { userfileLocation } from '../userfile-location.js'
import { verifyRestore } from './verify-restore.js'

/**
 * The backup action: back up → identify → verify → (download) → (verify-restore) →
 * (keep-backups) → outputs and summary, each phase a log group.
 */
export async function run(): Promise<void> {
  await runStep('CockroachDB backup', getInputs, async (inputs, session, context) => {
    const { signal, progress } = context
    noticeAboutDownload(inputs)
    // Refused before anything is sent to the cluster: a download-path that cannot take the backup.
    if (inputs.downloadPath !== undefined) await checkDownloadPath(inputs.downloadPath)
    progress.enter('Back up')
    // First, before anything else takes time: "the step's start" is this reading of the cluster's clock.
    const time = await chooseBackupTime(session, inputs.asOf, { maxClockOffsetMs: inputs.maxClockOffsetMs, log: log.info, signal })
    log.info(`Backing up as of ${time.headline}.`)
    const plan = planBackup(inputs, session.info.user, time)
    const result = await takeBackup(session, plan, {
      ...context,
      onVerify: () => {
        progress.enter('Verify')
        log.info('Finding the new backup with SHOW BACKUPS and checking it with SHOW BACKUP…')
      }
    })
    log.info(
      `Backup ${result.path} in ${plan.collectionForDisplay}: ${result.contents.rows} rows, ${result.contents.bytes} bytes, consistent as of ${result.contents.endTime} (${explainEndTime(plan.time, result.contents.endTime)}).`
    )
    let download: DownloadResult | undefined
    if (inputs.downloadPath !== undefined) {
      progress.enter('Download')
      try {
        download = await downloadBackup(
          session,
          userfileLocation(plan.collection, session.info.user, Inputs.DownloadPath),
          result.path,
          inputs.downloadPath,
          log.info,
          { version: session.info.version, warn: log.warning }
        )
      } catch (error) {
        // The backup exists and is verified: say where it is, then fail for the download.
        setBackupOutputs(plan, result)
        throw error
      }
    }
    if (inputs.verifyRestore) progress.enter('Verify by restoring')
    const verification = inputs.verifyRestore
      ? await verifyRestore(session, plan, result, context).catch(async (error: unknown) => {
          await reportFailedVerification(error)
          throw error
        })
      : undefined
    // Last, so nothing is deleted unless the backup, its download and its verification succeeded.
    if (inputs.keepBackups !== undefined) progress.enter('Keep backups')
    const retention =
      inputs.keepBackups === undefined
        ? undefined
        : await applyRetention(
            session,
            {
              uri: plan.collection,
              forDisplay: plan.collectionForDisplay,
              location: userfileLocation(plan.collection, session.info.user, Inputs.KeepBackups)
            },
            inputs.keepBackups,
            result.path,
            log.info
          )
    progress.endGroup()
    const report = makeReport(plan, result, session.info.versionText, {
      download,
      deletedBackups: retention?.deleted,
      verification
    })
    setOutputs(report)
    await writeSummary(report)
  })
}
