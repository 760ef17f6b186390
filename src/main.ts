import * as core from '@actions/core'
import { planBackup, takeBackup } from './backup.js'
import { chooseBackupTime } from './backup-time.js'
import { Inputs } from './constants.js'
import { downloadBackup } from './download.js'
import { getInputs } from './inputs.js'
import { makeReport, setOutputs, writeSummary } from './report.js'
import { runStep } from './step.js'
import { userfileLocation } from './userfile.js'

/** The backup action: back up → identify → verify → (download) → outputs and summary. */
export async function run(): Promise<void> {
  await runStep(getInputs, async (inputs, session, signal) => {
    const log = (message: string): void => core.info(message)
    // First, before anything else takes time: "the step's start" is this reading of the cluster's clock.
    const time = await chooseBackupTime(session, inputs.asOf, { maxClockOffsetMs: inputs.maxClockOffsetMs, log, signal })
    log(`Backing up as of ${time.headline}.`)
    const plan = planBackup(inputs, session.info.user, time)
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
    const report = makeReport(plan, result, session.info.versionText, download)
    log(
      `Backup ${report.path} in ${report.collection}: ${report.contents.rows} rows, ${report.contents.bytes} bytes, consistent as of ${report.contents.endTime} (${report.asOf}).`
    )
    setOutputs(report)
    await writeSummary(report)
  })
}
