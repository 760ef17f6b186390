import * as core from '@actions/core'
import { planBackup, takeBackup } from './backup.js'
import { Inputs } from './constants.js'
import { downloadBackup } from './download.js'
import { getInputs } from './inputs.js'
import { makeReport, setOutputs, writeSummary } from './report.js'
import { runStep } from './step.js'
import { userfileLocation } from './userfile.js'

/** The backup action: back up → identify → verify → (download) → outputs and summary, each phase a log group. */
export async function run(): Promise<void> {
  await runStep('CockroachDB backup', getInputs, async (inputs, session, signal, progress) => {
    const log = (message: string): void => core.info(message)
    const plan = planBackup(inputs, session.info.user)
    progress.enter('Back up')
    const result = await takeBackup(session, plan, {
      timeoutMs: inputs.timeoutMs,
      waitTimeoutMs: inputs.waitTimeoutMs,
      signal,
      log,
      connection: inputs.connection,
      onVerify: () => {
        progress.enter('Verify')
        log('Finding the new backup with SHOW BACKUPS and checking it with SHOW BACKUP…')
      }
    })
    log(
      `Backup ${result.path} in ${plan.collectionForDisplay}: ${result.contents.rows} rows, ${result.contents.bytes} bytes, consistent as of ${result.contents.endTime}.`
    )
    if (inputs.downloadPath !== undefined) progress.enter('Download')
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
    progress.endGroup()
    const report = makeReport(plan, result, session.info.versionText, download)
    setOutputs(report)
    await writeSummary(report)
  })
}
