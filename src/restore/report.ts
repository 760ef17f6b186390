/** The restore companion's outputs and job summary, written only once the restore job succeeded. */
import * as core from '@actions/core'
import { RestoreOutputs } from '../base/constants.js'
import type { RestorePlan, RestoreResult } from './plan.js'
import { code, formatBytes, hasJobSummary, keyValueTable, number, stepTitle, summaryTable, type SummaryCell } from '../step/summary.js'

function setRestoreOutputs(result: RestoreResult): void {
  core.setOutput(RestoreOutputs.JobId, result.jobId)
  core.setOutput(RestoreOutputs.RestoredTables, result.tables.map(table => table.name).join(','))
  core.setOutput(RestoreOutputs.Rows, String(result.rows))
  core.setOutput(RestoreOutputs.UploadedFiles, String(result.upload?.written ?? 0))
  core.setOutput(RestoreOutputs.RestoredAsOf, result.restoredAsOf)
}

async function writeRestoreSummary(plan: RestorePlan, result: RestoreResult): Promise<void> {
  if (!hasJobSummary()) return
  const upload = result.upload
  await core.summary
    .addHeading(stepTitle('CockroachDB restore', plan.target), 2)
    .addRaw(
      keyValueTable([
        ['Backup', code(plan.path)],
        [
          'Restored as of',
          {
            text: plan.pointInTime
              ? `${result.restoredAsOf} (as-of-system-time ${plan.pointInTime.input})`
              : `${result.restoredAsOf} (the backup's end)`
          }
        ],
        ['Collection', code(plan.collectionForDisplay)],
        ['Job', { text: result.jobId }],
        ['Rows', { text: String(result.rows) }],
        ...(upload
          ? ([['Uploaded', { text: `${upload.written} files (${formatBytes(upload.bytes)}), ${upload.unchanged} already there` }]] as [
              string,
              SummaryCell
            ][])
          : [])
      ])
    )
    .addHeading('Restored tables', 3)
    .addRaw(
      summaryTable([
        [
          { text: 'Table', header: true, align: 'left' },
          { text: 'Rows', header: true, align: 'right' }
        ],
        ...result.tables.map(table => [{ text: table.name }, number(String(table.rows))])
      ])
    )
    .write()
}

/** The step's outputs and job summary for a restore whose job succeeded. */
export async function reportRestore(plan: RestorePlan, result: RestoreResult): Promise<void> {
  setRestoreOutputs(result)
  await writeRestoreSummary(plan, result)
}
