import * as core from '@actions/core'
import { describeAsOf } from './as-of-system-time.js'
import { takeBackup, type BackupPlan } from './backup.js'
import type { Destination } from './backups.js'
import { defaultCollection, redactCollection, resolveUser } from './collection.js'
import { describeServer } from './connection-string.js'
import { Session } from './connection.js'
import { showContainerLogs } from './container-logs.js'
import { ActionError, describeError, InputError } from './errors.js'
import { getInputs, type ActionInputs } from './inputs.js'
import { JobError } from './job.js'
import { setOutputs, writeSummary } from './report.js'
import { watchSignals } from './signals.js'
import * as sql from './sql.js'
import { describeTarget, firstDatabase } from './targets.js'

function destinationOf(inputs: ActionInputs): Destination {
  if (inputs.subdirectory !== undefined) return { kind: 'subdirectory', name: inputs.subdirectory }
  return inputs.incremental ? { kind: 'latest' } : { kind: 'new' }
}

function planFor(inputs: ActionInputs, sessionUser: string): BackupPlan {
  const collection = resolveUser(inputs.collection ?? defaultCollection(firstDatabase(inputs.target)), sessionUser)
  return {
    target: inputs.target,
    collection,
    collectionForDisplay: redactCollection(collection),
    destination: destinationOf(inputs),
    asOf: inputs.asOf,
    revisionHistory: inputs.revisionHistory,
    encryptionPassphrase: inputs.encryptionPassphrase
  }
}

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
    if (inputs.asOf === undefined) {
      core.warning('as-of-system-time is empty: the backup reads the present, which competes with foreground traffic. CockroachDB recommends at least -10s.')
    }
    core.info(`Connecting to CockroachDB at ${describeServer(inputs.connection)} (waiting up to ${inputs.waitTimeoutMs / 1000} s)…`)
    session = await Session.open(inputs.connection, {
      waitTimeoutMs: inputs.waitTimeoutMs,
      signal: signals.signal,
      onRetry: (attempt, error) => core.debug(`Attempt ${attempt}: ${describeError(error)}`)
    })
    core.info(`Connected as ${session.info.user} to ${session.info.version?.text ?? session.info.versionText}.`)
    const plan = planFor(inputs, session.info.user)
    const result = await takeBackup(session, plan, {
      timeoutMs: inputs.timeoutMs,
      waitTimeoutMs: inputs.waitTimeoutMs,
      signal: signals.signal,
      log: message => core.info(message),
      connection: inputs.connection
    })
    const report = {
      path: result.path,
      collection: plan.collectionForDisplay,
      jobId: result.jobId,
      contents: result.contents,
      restoreStatement: sql.restore(plan.target, result.path, plan.collectionForDisplay, plan.encryptionPassphrase !== undefined),
      target: describeTarget(plan.target),
      asOf: describeAsOf(plan.asOf),
      serverVersion: session.info.versionText
    }
    core.info(`Backup ${result.path} in ${plan.collectionForDisplay}: ${result.contents.rows} rows, ${result.contents.bytes} bytes, consistent as of ${result.contents.endTime}.`)
    setOutputs(report)
    await writeSummary(report)
  } catch (error) {
    if (inputs?.container !== undefined && wantsContainerLogs(error)) await showContainerLogs(inputs.container)
    core.setFailed(error instanceof ActionError || error instanceof InputError ? error.message : `Unexpected error: ${describeError(error)}`)
  } finally {
    await session?.close()
    signals.dispose()
  }
}
