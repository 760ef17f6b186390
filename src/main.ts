import * as core from '@actions/core'
import { planBackup, takeBackup } from './backup.js'
import { describeServer } from './connection-string.js'
import { Inputs } from './constants.js'
import { downloadBackup } from './download.js'
import { Session } from './connection.js'
import { showContainerLogs } from './container-logs.js'
import { ActionError, describeError, InputError } from './errors.js'
import { getInputs, warnAboutInputs, type ActionInputs } from './inputs.js'
import { JobError } from './job.js'
import { makeReport, setOutputs, writeSummary } from './report.js'
import { watchSignals } from './signals.js'
import { userfileLocation } from './userfile.js'

/** The container's logs help when the cluster never answered or the job itself failed. */
function wantsContainerLogs(error: unknown): boolean {
  return !(error instanceof InputError) && !(error instanceof JobError && error.reason === 'signal')
}

export async function run(): Promise<void> {
  const signals = watchSignals()
  let inputs: ActionInputs | undefined
  let session: Session | undefined
  try {
    inputs = getInputs()
    warnAboutInputs(inputs)
    core.info(`Connecting to CockroachDB at ${describeServer(inputs.connection)} (waiting up to ${inputs.waitTimeoutMs / 1000} s)…`)
    session = await Session.open(inputs.connection, {
      waitTimeoutMs: inputs.waitTimeoutMs,
      signal: signals.signal,
      onRetry: (attempt, error) => core.debug(`Attempt ${attempt}: ${describeError(error)}`)
    })
    core.info(`Connected as ${session.info.user} to ${session.info.version?.text ?? session.info.versionText}.`)
    const plan = planBackup(inputs, session.info.user)
    const result = await takeBackup(session, plan, {
      timeoutMs: inputs.timeoutMs,
      waitTimeoutMs: inputs.waitTimeoutMs,
      signal: signals.signal,
      log: message => core.info(message),
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
            message => core.info(message)
          )
    const report = makeReport(plan, result, session.info.versionText, download)
    core.info(
      `Backup ${report.path} in ${report.collection}: ${report.contents.rows} rows, ${report.contents.bytes} bytes, consistent as of ${report.contents.endTime}.`
    )
    setOutputs(report)
    await writeSummary(report)
  } catch (error) {
    if (inputs?.container !== undefined && wantsContainerLogs(error)) await showContainerLogs(inputs.container)
    core.setFailed(
      error instanceof ActionError || error instanceof InputError ? error.message : `Unexpected error: ${describeError(error)}`
    )
  } finally {
    await session?.close()
    signals.dispose()
  }
}
