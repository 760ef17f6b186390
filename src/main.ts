import * as core from '@actions/core'
import { planBackup, takeBackup } from './backup.js'
import { Inputs } from './constants.js'
import { downloadBackup } from './download.js'
import { getInputs, noticeAboutDownload } from './inputs.js'
import { makeReport, setOutputs, writeSummary } from './report.js'
import { applyRetention } from './retention.js'
import { runStep } from './step.js'
import { userfileLocation } from './userfile.js'

/** The backup action: back up → identify → verify → (download) → outputs and summary. */
export async function run(): Promise<void> {
  await runStep(getInputs, async (inputs, session, signal) => {
    const log = (message: string): void => core.info(message)
    noticeAboutDownload(inputs)
    const plan = planBackup(inputs, session.info.user)
    const result = await takeBackup(session, plan, {
      timeoutMs: inputs.timeoutMs,
      waitTimeoutMs: inputs.waitTimeoutMs,
      signal,
      log,
      connection: inputs.connection
    })
    const download =
      inputs.downloadPath === undefined
        ? undefined
        : await downloadBackup(
            session,
            userfileLocation(plan.collection, session.info.user, Inputs.DownloadPath),
            result.path,
            inputs.downloadPath,
            log
          )
    // Last, so nothing is deleted unless the backup (and its download) succeeded.
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
            log
          )
    const report = makeReport(plan, result, session.info.versionText, { download, deletedBackups: retention?.deleted })
    log(
      `Backup ${report.path} in ${report.collection}: ${report.contents.rows} rows, ${report.contents.bytes} bytes, consistent as of ${report.contents.endTime}.`
    )
    setOutputs(report)
    await writeSummary(report)
  })
}
