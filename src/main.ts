import { planBackup, takeBackup } from './backup.js'
import { Inputs } from './constants.js'
import { downloadBackup } from './download.js'
import { getInputs } from './inputs.js'
import * as log from './log.js'
import { makeReport, setOutputs, writeSummary } from './report.js'
import { runStep } from './step.js'
import { userfileLocation } from './userfile.js'

/** The backup action: back up → identify → verify → (download) → outputs and summary. */
export async function run(): Promise<void> {
  await runStep(getInputs, async (inputs, session, signal) => {
    const plan = planBackup(inputs, session.info.user)
    const result = await takeBackup(session, plan, {
      timeoutMs: inputs.timeoutMs,
      waitTimeoutMs: inputs.waitTimeoutMs,
      signal,
      log: log.info,
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
            log.info
          )
    const report = makeReport(plan, result, session.info.versionText, download)
    log.info(
      `Backup ${report.path} in ${report.collection}: ${report.contents.rows} rows, ${report.contents.bytes} bytes, consistent as of ${report.contents.endTime}.`
    )
    setOutputs(report)
    await writeSummary(report)
  })
}
