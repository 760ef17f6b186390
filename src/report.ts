/** The step's outputs and job summary, written only once the backup is verified. */
import * as core from '@actions/core'
import { describeAsOf } from './as-of-system-time.js'
import type { BackupPlan, BackupResult } from './backup.js'
import type { BackupContents } from './backups.js'
import * as sql from './sql.js'
import { describeTarget } from './targets.js'
import { Outputs } from './constants.js'
import type { DownloadResult } from './download.js'

export interface BackupReport {
  path: string
  /** Credentials redacted. */
  collection: string
  jobId: string
  contents: BackupContents
  restoreStatement: string
  target: string
  asOf: string
  serverVersion: string
  download: DownloadResult | undefined
}

export function makeReport(
  plan: BackupPlan,
  result: BackupResult,
  serverVersion: string,
  download: DownloadResult | undefined
): BackupReport {
  return {
    path: result.path,
    collection: plan.collectionForDisplay,
    jobId: result.jobId,
    contents: result.contents,
    restoreStatement: sql.restore(plan.target, result.path, plan.collectionForDisplay, plan.encryptionPassphrase !== undefined),
    target: describeTarget(plan.target),
    asOf: describeAsOf(plan.asOf),
    serverVersion,
    download
  }
}

/** What is known once the backup is verified, before (and whatever happens in) the download. */
export function setBackupOutputs(plan: BackupPlan, result: BackupResult): void {
  core.setOutput(Outputs.BackupPath, result.path)
  core.setOutput(Outputs.Collection, plan.collectionForDisplay)
  core.setOutput(Outputs.JobId, result.jobId)
  core.setOutput(
    Outputs.RestoreStatement,
    sql.restore(plan.target, result.path, plan.collectionForDisplay, plan.encryptionPassphrase !== undefined)
  )
}

export function setOutputs(report: BackupReport): void {
  core.setOutput(Outputs.BackupPath, report.path)
  core.setOutput(Outputs.Collection, report.collection)
  core.setOutput(Outputs.JobId, report.jobId)
  core.setOutput(Outputs.Rows, String(report.contents.rows))
  core.setOutput(Outputs.Bytes, String(report.contents.bytes))
  core.setOutput(Outputs.EndTime, report.contents.endTime)
  core.setOutput(Outputs.RestoreStatement, report.restoreStatement)
  if (report.download) {
    core.setOutput(Outputs.DownloadPath, report.download.directory)
    core.setOutput(Outputs.Files, String(report.download.files))
    core.setOutput(Outputs.DownloadedBytes, String(report.download.bytes))
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`
}

export async function writeSummary(report: BackupReport): Promise<void> {
  const { contents } = report
  if (!process.env['GITHUB_STEP_SUMMARY']) return // run outside Actions (npm start prints instead)
  await core.summary
    .addHeading('CockroachDB backup', 2)
    .addTable([
      [{ data: 'Backed up', header: true }, { data: escapeHtml(report.target) }],
      [{ data: 'Path', header: true }, { data: `<code>${escapeHtml(report.path)}</code>` }],
      [{ data: 'Collection', header: true }, { data: `<code>${escapeHtml(report.collection)}</code>` }],
      [{ data: 'Type', header: true }, { data: escapeHtml(contents.backupType) }],
      [
        { data: 'Consistent as of', header: true },
        { data: `${escapeHtml(contents.endTime)} (AS OF SYSTEM TIME ${escapeHtml(report.asOf)})` }
      ],
      [{ data: 'Job', header: true }, { data: escapeHtml(report.jobId) }],
      [{ data: 'Rows', header: true }, { data: String(contents.rows) }],
      [{ data: 'Size', header: true }, { data: formatBytes(contents.bytes) }],
      [{ data: 'Cluster', header: true }, { data: escapeHtml(report.serverVersion) }],
      ...(report.download
        ? [
            [
              { data: 'Downloaded to', header: true },
              {
                data: `<code>${escapeHtml(report.download.directory)}</code> (${report.download.files} files, ${formatBytes(report.download.bytes)})`
              }
            ]
          ]
        : [])
    ])
    .addHeading('Objects', 3)
    .addTable([
      [
        { data: 'Table', header: true },
        { data: 'Rows', header: true },
        { data: 'Size', header: true }
      ],
      ...contents.objects.map(o => [escapeHtml(o.name), String(o.rows), formatBytes(o.bytes)])
    ])
    .addHeading('Restore', 3)
    .addCodeBlock(escapeHtml(report.restoreStatement), 'sql')
    .write()
}

/** Every value in the summary passes through here: the summary is HTML, and values come from the cluster. */
export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;')
}
