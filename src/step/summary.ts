/** The job summary's building blocks: HTML escaping, byte sizes, tables, and the failure summary. */
import * as core from '@actions/core'
import type { BackupTarget } from '../cluster/targets.js'

/** Whether there is a job summary to write: not when run outside Actions (npm start prints instead). */
export function hasJobSummary(): boolean {
  return Boolean(process.env['GITHUB_STEP_SUMMARY'])
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

const LINE_BREAK = /\r\n|\r|\n/g

/**
 * An HTML table for the job summary. core.summary.addTable cannot align cells, and GitHub centres
 * <th> by default: key/value headers read better left-aligned, and numbers right-aligned. The
 * table is one line: markdown ends an HTML block at the first blank line and renders the rest as
 * markdown, so a line break in a value becomes <br> (text) or &#10; (HTML, where <pre> shows it).
 */
export function summaryTable(rows: SummaryCell[][]): string {
  const cell = (c: SummaryCell): string => {
    const tag = c.header ? 'th' : 'td'
    const align = c.align ? ` align="${c.align}"` : ''
    const content = c.html?.replace(LINE_BREAK, '&#10;') ?? escapeHtml(c.text ?? '').replace(LINE_BREAK, '<br>')
    return `<${tag}${align}>${content}</${tag}>`
  }
  return `<table>${rows.map(row => `<tr>${row.map(cell).join('')}</tr>`).join('')}</table>\n`
}

/** A key/value table: keys as left-aligned headers. */
export function keyValueTable(rows: [string, SummaryCell][]): string {
  return summaryTable(rows.map(([key, value]) => [{ text: key, header: true, align: 'left' }, value]))
}

export const code = (text: string): SummaryCell => ({ html: `<code>${escapeHtml(text)}</code>` })
export const number = (text: string): SummaryCell => ({ text, align: 'right' })

/** What the summary of a failed step says: the cause, the hint, the statement, the phase and the job. */
export interface FailureReport {
  /** "CockroachDB backup of bank", "CockroachDB restore of bank". */
  title: string
  phase: string | undefined
  message: string
  statement: string | undefined
  jobId: string | undefined
  hint: string | undefined
  /** Adds what is known besides the failure (the backup that was made), after it. */
  more?: () => void
}

/** A paragraph of HTML on one line: it wraps at the page's width, and markdown leaves it alone. */
function paragraph(html: string): string {
  return `<p>${html.replace(LINE_BREAK, '<br>')}</p>\n`
}

/** Text with `code` spans as <code>, escaped; a lone backtick is dropped rather than shown. */
export function withCodeSpans(text: string): string {
  return escapeHtml(text)
    .replace(/`([^`\r\n]+)`/g, '<code>$1</code>')
    .replaceAll('`', '')
}

export async function writeFailureSummary(failure: FailureReport): Promise<void> {
  if (!hasJobSummary()) return
  const summary = core.summary.addHeading(`${failure.title} failed`, 2).addRaw(paragraph(escapeHtml(failure.message)))
  if (failure.hint !== undefined) summary.addRaw(paragraph(`<strong>Hint:</strong> ${withCodeSpans(failure.hint)}`))
  if (failure.statement !== undefined) {
    summary.addRaw(paragraph(`The statement that was running:<br><code>${escapeHtml(failure.statement)}</code>`))
  }
  summary.addRaw(
    keyValueTable([
      ['Phase', { text: failure.phase ?? 'Start' }],
      ...(failure.jobId === undefined ? [] : ([['Job', { text: failure.jobId }]] as [string, SummaryCell][]))
    ])
  )
  failure.more?.()
  await summary.write()
}

/** The heading of a step's summary, named by what it backed up or restored: several steps in one job stay apart. */
export function stepTitle(base: string, target: BackupTarget): string {
  const names = target.kind === 'databases' ? target.databases : target.tables.map(table => table.parts.join('.'))
  const shown = names.length > 3 ? [...names.slice(0, 3), '…'] : names
  return `${base} of ${shown.join(', ')}`
}

/** Every value in the summary passes through here: the summary is HTML, and values come from the cluster. */
export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;')
}
