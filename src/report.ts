/** The step's outputs and job summary, written only once the backup is verified. */
import * as core from '@actions/core'
import { explainEndTime } from './backup-time.js'
import type { BackupPlan, BackupResult } from './backup.js'
import type { BackupContents } from './backups.js'
import * as sql from './sql.js'
import { describeTarget } from './targets.js'
import { Outputs } from './constants.js'
import type { DownloadResult } from './download.js'
import { VerificationError, type Verification } from './verify-restore.js'

export interface BackupReport {
  path: string
  /** Credentials redacted. */
  collection: string
  jobId: string
  contents: BackupContents
  restoreStatement: string
  target: string
  /** Which time and why: "the step's start …, so every write committed before the step is included". */
  asOf: string
  serverVersion: string
  download: DownloadResult | undefined
  /** With keep-backups: the folders deleted (possibly none); undefined without it. */
  deletedBackups: string[] | undefined
  /** With verify-restore: the comparison. */
  verification: Verification | undefined
}

/** What happened after the backup itself, when the inputs asked for it. */
export interface AfterBackup {
  download?: DownloadResult
  deletedBackups?: string[]
  verification?: Verification
}

export function makeReport(plan: BackupPlan, result: BackupResult, serverVersion: string, after: AfterBackup = {}): BackupReport {
  return {
    path: result.path,
    collection: plan.collectionForDisplay,
    jobId: result.jobId,
    contents: result.contents,
    restoreStatement: sql.restore(plan.target, result.path, plan.collectionForDisplay, plan.encryptionPassphrase !== undefined),
    target: describeTarget(plan.target),
    asOf: explainEndTime(plan.time, result.contents.endTime),
    serverVersion,
    download: after.download,
    deletedBackups: after.deletedBackups,
    verification: after.verification
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
  if (report.deletedBackups) core.setOutput(Outputs.DeletedBackups, report.deletedBackups.join(','))
  if (report.verification) core.setOutput(Outputs.Verified, String(report.verification.verified))
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
  core.summary
    .addHeading('CockroachDB backup', 2)
    .addTable([
      [{ data: 'Backed up', header: true }, { data: escapeHtml(report.target) }],
      [{ data: 'Path', header: true }, { data: `<code>${escapeHtml(report.path)}</code>` }],
      [{ data: 'Collection', header: true }, { data: `<code>${escapeHtml(report.collection)}</code>` }],
      [{ data: 'Type', header: true }, { data: escapeHtml(contents.backupType) }],
      [{ data: 'Consistent as of', header: true }, { data: `${escapeHtml(contents.endTime)}: ${escapeHtml(report.asOf)}` }],
      [{ data: 'Job', header: true }, { data: escapeHtml(report.jobId) }],
      // SHOW BACKUP reports each layer's own rows: an incremental counts what changed since the
      // layer before it, so summing the chain would count a row changed in several layers repeatedly.
      [{ data: `Rows in this ${escapeHtml(contents.backupType)} layer`, header: true }, { data: String(contents.rows) }],
      [{ data: `Size of this ${escapeHtml(contents.backupType)} layer`, header: true }, { data: formatBytes(contents.bytes) }],
      [{ data: 'Layers in the chain', header: true }, { data: String(contents.layers) }],
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
        : []),
      ...(report.deletedBackups
        ? [
            [
              { data: 'Deleted (keep-backups)', header: true },
              {
                data:
                  report.deletedBackups.length === 0
                    ? 'none'
                    : report.deletedBackups.map(path => `<code>${escapeHtml(path)}</code>`).join(', ')
              }
            ]
          ]
        : [])
    ])
    .addHeading('Objects', 3)
    .addTable([
      [
        { data: 'Table', header: true },
        { data: 'Rows in this layer', header: true },
        { data: 'Size in this layer', header: true }
      ],
      ...contents.objects.map(o => [escapeHtml(o.name), String(o.rows), formatBytes(o.bytes)])
    ])
    .addHeading('Restore', 3)
    .addCodeBlock(escapeHtml(report.restoreStatement), 'sql')
  if (report.verification) addVerification(report.verification)
  await core.summary.write()
}

function addVerification(verification: Verification): void {
  const verdict = verification.verified ? 'verified' : 'NOT verified'
  core.summary.addHeading(`Restore test: ${verdict}`, 3)
  if (!verification.countsCompared) {
    core.summary.addRaw(
      '<p>The backup has incremental layers: SHOW BACKUP counts what each layer wrote, so row counts were not compared.</p>',
      true
    )
  }
  core.summary.addTable([
    [
      { data: 'Table', header: true },
      { data: 'Restored as', header: true },
      { data: 'Rows in backup', header: true },
      { data: 'Rows restored', header: true },
      { data: 'Result', header: true }
    ],
    ...verification.tables.map(check => [
      escapeHtml(check.table),
      escapeHtml(check.restoredAs),
      check.expected === undefined ? '–' : String(check.expected),
      String(check.actual),
      check.expected === undefined ? 'restored' : check.expected === check.actual ? 'match' : '<strong>differs</strong>'
    ])
  ])
}

/** verify-restore failed: `verified` is false, and a count mismatch is shown in the summary. */
export async function reportFailedVerification(error: unknown): Promise<void> {
  core.setOutput(Outputs.Verified, 'false')
  if (!(error instanceof VerificationError) || !process.env['GITHUB_STEP_SUMMARY']) return
  addVerification(error.verification)
  await core.summary.write()
}

/** Every value in the summary passes through here: the summary is HTML, and values come from the cluster. */
export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;')
}
