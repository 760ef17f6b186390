import * as log from '../log.js'
import { getRestoreInputs } from './inputs.js'
import { setRestoreOutputs, writeRestoreSummary } from './report.js'
import { planRestore, takeRestore } from './plan.js'
import { runStep } from '../step.js'

/** The restore companion: (upload) → make room → RESTORE → follow → outputs and summary. */
export async function runRestore(): Promise<void> {
  await runStep('CockroachDB restore', getRestoreInputs, async (inputs, session, context) => {
    const plan = planRestore(inputs, session.info.user)
    context.progress.enter('Restore')
    const result = await takeRestore(session, plan, context)
    context.progress.endGroup()
    log.info(`Restored ${result.tables.length} tables (${result.rows} rows) from ${plan.path}.`)
    setRestoreOutputs(result)
    await writeRestoreSummary(plan, result)
  })
}
