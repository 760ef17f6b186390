import { afterBackup } from './after-backup.js'
import { chooseBackupTime } from './backup-time.js'
import { readInputs } from './inputs.js'
import { planBackup, takeBackup } from './plan.js'
import { reportBackup } from './report.js'
import { runStep } from '../step/step.js'

/** The backup action: (read the clock) → plan → back up and verify → download, verify-restore, keep-backups → report. */
export async function run(): Promise<void> {
  await runStep('CockroachDB backup', readInputs, async (inputs, session, context) => {
    context.progress.enter('Back up')
    const time = await chooseBackupTime(session, inputs.asOf, { ...context, maxClockOffsetMs: inputs.maxClockOffsetMs })
    const plan = planBackup(inputs, session.info.user, time)
    const result = await takeBackup(session, plan, context)
    const after = await afterBackup(session, plan, result, context)
    await reportBackup(plan, result, after, session.info.versionText, context.progress)
  })
}
