import { readRestoreInputs } from './inputs.js'
import { planRestore, takeRestore } from './plan.js'
import { reportRestore } from './report.js'
import { runStep } from '../step/step.js'

/** The restore companion: plan → (upload) → make room → restore → report. */
export async function runRestore(): Promise<void> {
  await runStep('CockroachDB restore', readRestoreInputs, async (inputs, session, context) => {
    context.progress.enter('Restore')
    const plan = planRestore(inputs, session.info.user)
    const result = await takeRestore(session, plan, context)
    await reportRestore(plan, result)
  })
}
