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

/** One cell of a summary table: plain text (escaped here), or HTML that is already safe. */
export interface SummaryCell {
  text?: string
  html?: string
  header?: boolean
  align?: 'left' | 'right'
}

/**
 * An HTML table for the job summary. core.summary.addTable cannot align cells, and GitHub centres
 * <th> by default: key/value headers read better left-aligned, and numbers right-aligned.
 */
export function summaryTable(rows: SummaryCell[][]): string {
  const cell = (c: SummaryCell): string => {
    const tag = c.header ? 'th' : 'td'
    const align = c.align ? ` align="${c.align}"` : ''
    return `<${tag}${align}>${c.html ?? escapeHtml(c.text ?? '')}</${tag}>`
  }
  return `<table>${rows.map(row => `<tr>${row.map(cell).join('')}</tr>`).join('')}</table>\n`
}

/** A key/value table: keys as left-aligned headers. */
export function keyValueTable(rows: [string, SummaryCell][]): string {
  return summaryTable(rows.map(([key, value]) => [{ text: key, header: true, align: 'left' }, value]))
}

export const code = (text: string): SummaryCell => ({ html: `<code>${escapeHtml(text)}</code>` })
export const number = (text: string): SummaryCell => ({ text, align: 'right' })

export async function writeSummary(report: BackupReport): Promise<void> {
  const { contents } = report
  if (!process.env['GITHUB_STEP_SUMMARY']) return // run outside Actions (npm start prints instead)
  core.summary
    .addHeading('CockroachDB backup', 2)
    .addRaw(
      keyValueTable([
        ['Backed up', { text: report.target }],
        ['Path', code(report.path)],
        ['Collection', code(report.collection)],
        ['Type', { text: contents.backupType }],
        ['Consistent as of', { text: `${contents.endTime}: ${report.asOf}` }],
        ['Job', { text: report.jobId }],
        // SHOW BACKUP reports each layer's own rows: an incremental counts what changed since the
        // layer before it, so summing the chain would count a row changed in several layers repeatedly.
        [`Rows in this ${contents.backupType} layer`, number(String(contents.rows))],
        [`Size of this ${contents.backupType} layer`, number(formatBytes(contents.bytes))],
        ['Layers in the chain', number(String(contents.layers))],
        ['Cluster', { text: report.serverVersion }],
        ...(report.download
          ? ([
              [
                'Downloaded',
                {
                  text: `${report.download.files} files, ${formatBytes(report.download.bytes)}: ready for actions/upload-artifact (the download-path output)`
                }
              ]
            ] as [string, SummaryCell][])
          : []),
        ...(report.deletedBackups
          ? ([
              [
                'Deleted (keep-backups)',
                report.deletedBackups.length === 0
                  ? { text: 'none' }
                  : { html: report.deletedBackups.map(path => `<code>${escapeHtml(path)}</code>`).join(', ') }
              ]
            ] as [string, SummaryCell][])
          : [])
      ])
    )
    .addHeading('Objects', 3)
    .addRaw(
      summaryTable([
        [
          { text: 'Table', header: true, align: 'left' },
          { text: 'Rows in this layer', header: true, align: 'right' },
          { text: 'Size in this layer', header: true, align: 'right' }
        ],
        ...contents.objects.map(o => [{ text: o.name }, number(String(o.rows)), number(formatBytes(o.bytes))])
      ])
    )
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

/** What the summary of a failed step says: what failed, the statement, the job, the hint. */
export interface FailureReport {
  /** "CockroachDB backup", "CockroachDB restore". */
  title: string
  phase: string | undefined
  message: string
  statement: string | undefined
  jobId: string | undefined
  hint: string | undefined
}

export async function writeFailureSummary(failure: FailureReport): Promise<void> {
  if (!process.env['GITHUB_STEP_SUMMARY']) return // run outside Actions
  const summary = core.summary
    .addHeading(`${failure.title} failed`, 2)
    .addRaw(
      keyValueTable([
        ['Phase', { text: failure.phase ?? 'Start' }],
        ['Error', { html: `<pre>${escapeHtml(failure.message)}</pre>` }],
        ...(failure.jobId === undefined ? [] : ([['Job', { text: failure.jobId }]] as [string, SummaryCell][])),
        ...(failure.hint === undefined ? [] : ([['Hint', { text: failure.hint }]] as [string, SummaryCell][]))
      ])
    )
  if (failure.statement !== undefined) summary.addHeading('Statement', 3).addCodeBlock(escapeHtml(failure.statement), 'sql')
  await summary.write()
}

/** Every value in the summary passes through here: the summary is HTML, and values come from the cluster. */
export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;')
}
