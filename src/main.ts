import { planBackup, takeBackup } from './backup.js'
import { Inputs } from './constants.js'
import { checkDownloadPath, downloadBackup, type DownloadResult } from './download.js'
import { getInputs } from './inputs.js'
import * as log from './log.js'
import { makeReport, setBackupOutputs, setOutputs, writeSummary } from './report.js'
import { runStep } from './step.js'
import { userfileLocation } from './userfile.js'

/** The backup action: back up → identify → verify → (download) → outputs and summary. */
export async function run(): Promise<void> {
  await runStep(getInputs, async (inputs, session, { signal, cleanup }) => {
    // Refused before anything is sent to the cluster: a download-path that cannot take the backup.
    if (inputs.downloadPath !== undefined) await checkDownloadPath(inputs.downloadPath)
    const plan = planBackup(inputs, session.info.user)
    const result = await takeBackup(session, plan, {
      timeoutMs: inputs.timeoutMs,
      waitTimeoutMs: inputs.waitTimeoutMs,
      signal,
      cleanup,
      log: log.info,
      connection: inputs.connection
    })
    let download: DownloadResult | undefined
    if (inputs.downloadPath !== undefined) {
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
    const report = makeReport(plan, result, session.info.versionText, download)
    log.info(
      `Backup ${report.path} in ${report.collection}: ${report.contents.rows} rows, ${report.contents.bytes} bytes, consistent as of ${report.contents.endTime}.`
    )
    setOutputs(report)
    await writeSummary(report)
  })
}
