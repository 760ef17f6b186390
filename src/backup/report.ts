/** The step's outputs and job summary, written only once the backup is verified. */
import * as core from '@actions/core'
import { explainEndTime } from './backup-time.js'
import type { AfterBackup, BackupPlan, BackupResult } from './plan.js'
import type { BackupContents } from '../cluster/backup-listing.js'
import * as sql from '../cluster/sql/index.js'
import {
  code,
  escapeHtml,
  formatBytes,
  hasJobSummary,
  keyValueTable,
  number,
  stepTitle,
  summaryTable,
  type SummaryCell
} from '../step/summary.js'
import { describeTarget } from '../cluster/targets.js'
import { Outputs } from '../base/constants.js'
import type { StepProgress } from '../step/progress.js'
import type { DownloadResult } from './download.js'
import { VerificationError, type Verification } from './verification.js'

export interface BackupReport {
  path: string
  /** Credentials redacted. */
  collection: string
  jobId: string
  contents: BackupContents
  /** Why a full backup or an incremental: "the newest full backup, /…, is 5 days old; full-every is 7d". */
  typeReason: string
  restoreStatement: string
  target: string
  /** The summary's heading: "CockroachDB backup of bank". */
  title: string
  /** Which time and why: "the step's start …, so every write committed before the step is included". */
  asOf: string
  serverVersion: string
  download: DownloadResult | undefined
  /** With keep-backups: the folders deleted (possibly none); undefined without it. */
  deletedBackups: string[] | undefined
  /** When keep-backups failed after deleting `deletedBackups`: what became of the rest. */
  retentionStopped: string | undefined
  /** With verify-restore: the comparison. */
  verification: Verification | undefined
}

function makeReport(plan: BackupPlan, result: BackupResult, serverVersion: string, after: AfterBackup): BackupReport {
  return {
    path: result.path,
    collection: plan.collectionForDisplay,
    jobId: result.jobId,
    contents: result.contents,
    typeReason: result.typeReason,
    restoreStatement: sql.restore(plan.target, result.path, plan.collectionForDisplay, plan.encryptionPassphrase !== undefined),
    target: describeTarget(plan.target),
    title: stepTitle('CockroachDB backup', plan.target),
    asOf: explainEndTime(plan.time, result.contents.endTime),
    serverVersion,
    download: after.download,
    deletedBackups: after.deletedBackups,
    retentionStopped: after.failed?.phase === 'keep-backups' ? (after.retentionStopped ?? 'failed') : undefined,
    verification: after.verification
  }
}

/** What is known once the backup is verified, whatever happens after. */
function setBackupOutputs(report: BackupReport): void {
  core.setOutput(Outputs.BackupPath, report.path)
  core.setOutput(Outputs.Collection, report.collection)
  core.setOutput(Outputs.JobId, report.jobId)
  core.setOutput(Outputs.RestoreStatement, report.restoreStatement)
}

function setOutputs(report: BackupReport): void {
  setBackupOutputs(report)
  core.setOutput(Outputs.Rows, String(report.contents.rows))
  core.setOutput(Outputs.Bytes, String(report.contents.bytes))
  core.setOutput(Outputs.EndTime, report.contents.endTime)
  core.setOutput(Outputs.BackupType, report.contents.backupType)
  if (report.download) {
    core.setOutput(Outputs.DownloadPath, report.download.directory)
    core.setOutput(Outputs.Files, String(report.download.files))
    core.setOutput(Outputs.DownloadedBytes, String(report.download.bytes))
  }
  if (report.deletedBackups) core.setOutput(Outputs.DeletedBackups, report.deletedBackups.join(','))
  if (report.verification) core.setOutput(Outputs.Verified, String(report.verification.verified))
}

/**
 * The backup's sections of the summary, added but not written: under the step's heading, or under
 * the failure of a follow-up (then `verification` is the failed one, or undefined when it never compared).
 */
function addBackupSections(
  report: BackupReport,
  heading: { text: string; level: 2 | 3 },
  verification: Verification | undefined,
  verdict?: string
): void {
  const { contents } = report
  core.summary
    .addHeading(heading.text, heading.level)
    .addRaw(
      keyValueTable([
        ['Backed up', { text: report.target }],
        ['Path', code(report.path)],
        ['Collection', code(report.collection)],
        ['Type', { text: `${contents.backupType}: ${report.typeReason}` }],
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
                {
                  html:
                    (report.deletedBackups.length === 0
                      ? 'none'
                      : report.deletedBackups.map(path => `<code>${escapeHtml(path)}</code>`).join(', ')) +
                    (report.retentionStopped === undefined
                      ? ''
                      : `; then keep-backups ${escapeHtml(report.retentionStopped)} (see the error below)`)
                }
              ]
            ] as [string, SummaryCell][])
          : []),
        ...(verdict === undefined ? [] : ([['Restore test', { text: verdict }]] as [string, SummaryCell][]))
      ])
    )
    .addHeading('Objects', heading.level + 1)
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
    .addHeading('Restore', heading.level + 1)
    .addCodeBlock(escapeHtml(report.restoreStatement), 'sql')
  if (verification) addVerification(verification, heading.level + 1)
}

async function writeSummary(report: BackupReport): Promise<void> {
  if (!hasJobSummary()) return
  addBackupSections(report, { text: report.title, level: 2 }, report.verification)
  await core.summary.write()
}

function addVerification(verification: Verification, level: number): void {
  const verdict = verification.verified ? 'verified' : 'NOT verified'
  core.summary.addHeading(`Restore test: ${verdict}`, level)
  core.summary.addRaw(
    summaryTable([
      [
        { text: 'Table', header: true, align: 'left' },
        { text: 'Restored as', header: true, align: 'left' },
        { text: 'Rows in source at backup time', header: true, align: 'right' },
        { text: 'Rows restored', header: true, align: 'right' },
        { text: 'Result', header: true, align: 'left' }
      ],
      ...verification.tables.map(check => [
        { text: check.table },
        { text: check.restoredAs },
        number(check.expected === undefined ? '–' : String(check.expected)),
        number(String(check.actual)),
        check.expected === undefined || check.expected === check.actual
          ? { text: [check.expected === undefined ? 'restored' : 'match', check.note].filter(part => part).join(': ') }
          : { html: '<strong>differs</strong>' }
      ])
    ])
  )
  if (verification.skipped.length > 0) {
    const items = verification.skipped.map(
      skipped => `<li><code>${escapeHtml(skipped.table)}</code> (${escapeHtml(skipped.kind)}): ${escapeHtml(skipped.why)}</li>`
    )
    core.summary.addRaw(`<p>Restored, counts not compared:</p><ul>${items.join('')}</ul>`, true)
  }
}

/**
 * The step's outputs and job summary; or, when a follow-up failed, what is known before the step
 * fails for it. A failed download or verify-restore leaves a backup that was made and checked with
 * SHOW BACKUP: its outputs say where it is (with `verified` false after a failed verify-restore),
 * and the failure's summary shows it below the cause, with the restore test's result.
 */
export async function reportBackup(
  plan: BackupPlan,
  result: BackupResult,
  after: AfterBackup,
  serverVersion: string,
  progress?: StepProgress
): Promise<void> {
  const report = makeReport(plan, result, serverVersion, after)
  if (after.failed?.phase === 'keep-backups') {
    // The backup was made, downloaded and verified: everything about it holds, and the summary says what keep-backups removed.
    setOutputs(report)
    await writeSummary(report)
    throw after.failed.error
  }
  if (after.failed !== undefined) {
    setBackupOutputs(report)
    const failed = after.failed
    const verification = failed.error instanceof VerificationError ? failed.error.verification : undefined
    const verdict =
      failed.phase !== 'verify-restore'
        ? undefined
        : verification === undefined
          ? 'NOT verified: the restore test failed (see the error above)'
          : 'NOT verified: the row counts differ (see the table below)'
    if (failed.phase === 'verify-restore') core.setOutput(Outputs.Verified, 'false')
    if (progress && hasJobSummary()) {
      const heading = failed.phase === 'download' ? 'The backup that was made (not downloaded)' : 'The backup that was made'
      progress.summaryAfterFailure = () => {
        addBackupSections(report, { text: heading, level: 3 }, verification, verdict)
      }
    }
    throw failed.error
  }
  setOutputs(report)
  await writeSummary(report)
}
