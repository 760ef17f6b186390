/** The restore companion's outputs and job summary, written only once the restore job succeeded. */
import * as core from '@actions/core'
import { RestoreOutputs } from './constants.js'
import type { RestorePlan, RestoreResult } from './restore.js'
import { escapeHtml, formatBytes } from './report.js'

export function setRestoreOutputs(result: RestoreResult): void {
  core.setOutput(RestoreOutputs.JobId, result.jobId)
  core.setOutput(RestoreOutputs.RestoredTables, result.tables.map(table => table.name).join(','))
  core.setOutput(RestoreOutputs.Rows, String(result.rows))
  core.setOutput(RestoreOutputs.UploadedFiles, String(result.upload?.written ?? 0))
}

export async function writeRestoreSummary(plan: RestorePlan, result: RestoreResult): Promise<void> {
  if (!process.env['GITHUB_STEP_SUMMARY']) return // run outside Actions
  const upload = result.upload
  await core.summary
    .addHeading('CockroachDB restore', 2)
    .addTable([
      [{ data: 'Backup', header: true }, { data: `<code>${escapeHtml(plan.path)}</code>` }],
      [{ data: 'Collection', header: true }, { data: `<code>${escapeHtml(plan.collectionForDisplay)}</code>` }],
      [{ data: 'Job', header: true }, { data: escapeHtml(result.jobId) }],
      [{ data: 'Rows', header: true }, { data: String(result.rows) }],
      ...(upload
        ? [
            [
              { data: 'Uploaded', header: true },
              { data: `${upload.written} files (${formatBytes(upload.bytes)}), ${upload.unchanged} already there` }
            ]
          ]
        : [])
    ])
    .addHeading('Restored tables', 3)
    .addTable([
      [
        { data: 'Table', header: true },
        { data: 'Rows', header: true }
      ],
      ...result.tables.map(table => [escapeHtml(table.name), String(table.rows)])
    ])
    .write()
}
