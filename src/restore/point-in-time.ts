/**
 * The restore companion's `as-of-system-time`: a time to restore the backup to, resolved against
 * what SHOW BACKUP says the backup covers (a relative time counts back from the backup's end, not
 * from the cluster's now, which is what CockroachDB would count it from), and CockroachDB's
 * refusals (pkg/backup/backupinfo ValidateEndTimeAndTruncate; facts "Point-in-time restore") turned into messages
 * that name the backup's range and the backup action's revision-history input.
 */
import type { ShowBackupRow } from '../cluster/backup-listing.js'
import { QueryError } from '../cluster/connect-policy.js'
import { Inputs, RestoreInputs } from '../base/constants.js'
import { ActionError, databaseErrorFields, InputError } from '../base/errors.js'

/** A time in nanoseconds since the Unix epoch, UTC (CockroachDB's HLC wall time). */
type Nanos = bigint

export type RestoreAsOf = { kind: 'timestamp'; nanos: Nanos; input: string } | { kind: 'before-end'; nanos: Nanos; input: string }

/** The time a RESTORE goes to: the literal sent (none: the backup's end), and the time as ISO 8601 for outputs and messages. */
export interface ResolvedAsOf {
  literal: string | undefined
  display: string
}

const UNIT_NANOS: Record<string, bigint> = { h: 3_600_000_000_000n, m: 60_000_000_000n, s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n }
const RELATIVE = /^-(?:\d{1,9}(?:h|ms|m|s|us))+$/
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?(?:\s*UTC)?)?$/i

const ACCEPTED =
  "a timestamp such as '2026-11-30 02:00:00' (UTC unless it ends in Z or an offset such as +01:00; up to 9 fraction digits), " +
  "or a time before the backup's end such as -2h, -90m or -1h30m (units h, m, s, ms, us)"

/** Nanoseconds of a timestamp text (SHOW BACKUP's end_time, or the input); undefined if it is not one. */
export function parseTimestampNanos(text: string): Nanos | undefined {
  const match = TIMESTAMP.exec(text.trim())
  if (!match) return undefined
  const [, year, month, day, hour, minute, second, fraction = '', zone = ''] = match
  const ms = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second))
  const date = new Date(ms)
  if (Number.isNaN(ms) || date.getUTCDate() !== Number(day) || date.getUTCMonth() !== Number(month) - 1 || Number(hour) > 23)
    return undefined
  if (Number(minute) > 59 || Number(second) > 59) return undefined
  let offsetMinutes = 0
  if (/^[+-]/.test(zone)) {
    const digits = zone
      .slice(1)
      .replace(/\s*UTC$/i, '')
      .replace(':', '')
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'))
  }
  return BigInt(ms - offsetMinutes * 60_000) * 1_000_000n + BigInt(fraction.padEnd(9, '0'))
}

/** ISO 8601 in UTC with as many fraction digits as the time needs: `2026-11-30T02:00:00.5Z`. */
export function formatNanos(nanos: Nanos): string {
  const seconds = nanos / 1_000_000_000n
  const fraction = String(nanos % 1_000_000_000n)
    .padStart(9, '0')
    .replace(/0+$/, '')
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}${fraction ? `.${fraction}` : ''}Z`
}

/** The input, checked before connecting; undefined when empty (restore to the backup's end). */
export function parseRestoreAsOf(raw: string): RestoreAsOf | undefined {
  const input = raw.trim()
  if (input === '') return undefined
  if (RELATIVE.test(input)) {
    let nanos = 0n
    for (const [, amount = '0', unit = 's'] of input.matchAll(/(\d+)(h|ms|m|s|us)/g)) nanos += BigInt(amount) * (UNIT_NANOS[unit] ?? 0n)
    if (nanos === 0n)
      throw new InputError(RestoreInputs.AsOfSystemTime, `${JSON.stringify(input)} is the backup's end itself; leave it empty for that.`)
    return { kind: 'before-end', nanos: -nanos, input }
  }
  const nanos = parseTimestampNanos(input)
  if (nanos !== undefined) return { kind: 'timestamp', nanos, input }
  if (RELATIVE.test(`-${input.replace(/^\+/, '')}`)) {
    throw new InputError(
      RestoreInputs.AsOfSystemTime,
      `${JSON.stringify(input)} is after the backup's end; a relative time counts back from it. Did you mean -${input.replace(/^\+/, '')}?`
    )
  }
  throw new InputError(RestoreInputs.AsOfSystemTime, `${JSON.stringify(input)} is not accepted. Use ${ACCEPTED}.`)
}

/** The end time of each layer SHOW BACKUP lists (full first), as CockroachDB printed it and in nanoseconds. */
export interface LayerEnd {
  text: string
  nanos: Nanos
}

export function layerEnds(rows: ShowBackupRow[]): LayerEnd[] {
  const ends = new Map<string, LayerEnd>()
  for (const row of rows) {
    const nanos = row.end_time === null ? undefined : parseTimestampNanos(row.end_time)
    if (row.end_time !== null && nanos !== undefined) ends.set(String(nanos), { text: formatNanos(nanos), nanos })
  }
  return [...ends.values()].sort((a, b) => (a.nanos < b.nanos ? -1 : a.nanos > b.nanos ? 1 : 0))
}

/**
 * SHOW BACKUP may print end times to the microsecond only (facts §21, unconfirmed): a backup's real end may lie
 * up to a microsecond after the printed one, so only a time beyond that is surely outside it.
 */
const PRINTED_END_SLACK: Nanos = 1_000n

/** What to send for the input, or an error naming the backup's range when the time is surely after its end. */
export function resolveRestoreAsOf(asOf: RestoreAsOf, ends: LayerEnd[], path: string): ResolvedAsOf {
  const end = ends.at(-1)
  if (end === undefined) throw new ActionError(`SHOW BACKUP '${path}' lists no end time, so as-of-system-time cannot be placed in it.`)
  const nanos = asOf.kind === 'before-end' ? end.nanos + asOf.nanos : asOf.nanos
  if (nanos > end.nanos + PRINTED_END_SLACK) {
    throw new ActionError(
      `${RestoreInputs.AsOfSystemTime} ${asOf.input} (${formatNanos(nanos)}) is after the end of backup ${path}, ${end.text}. ${coverageText(ends)}`,
      `Give a time up to ${end.text}, or leave ${RestoreInputs.AsOfSystemTime} empty to restore the backup's end.`
    )
  }
  // The end as SHOW BACKUP prints it (the backup action's end-time output) may lack the end's last
  // nanoseconds, which a backup without revision history needs exactly: restore the end itself.
  if (asOf.kind === 'timestamp' && nanos === end.nanos) return { literal: undefined, display: end.text }
  // A decimal HLC timestamp (wall nanoseconds, logical counter): exact, and read the same whatever the session's time zone.
  return { literal: `${nanos}.0000000000`, display: formatNanos(nanos) }
}

function coverageText(ends: LayerEnd[]): string {
  const list = ends.map(end => end.text).join(', ')
  return (
    `Taken with ${Inputs.RevisionHistory}, it restores to any time from the GC threshold when its full backup was taken up to its end; ` +
    `without, only to the end of one of its layers (${list}).`
  )
}

const NO_REVISIONS =
  /restoring to arbitrary time requires that BACKUP for requested time be created with 'revision_history' option\. nearest (?:backup time is|BACKUP times are) (.+)$/
const REVISIONS_FROM = /BACKUP for requested time only has revision history from (.+)$/
const NOT_COVERED = /supplied backups do not cover requested time/

/**
 * CockroachDB's refusal of the time (a plain errors.Errorf, XXUUU, from RESTORE's planning), as a
 * message that says what the backup covers; any other error unchanged.
 */
export function pointInTimeRefusal(error: unknown, asOf: RestoreAsOf, resolved: ResolvedAsOf, ends: LayerEnd[], path: string): unknown {
  if (!(error instanceof QueryError) || error.code !== 'XXUUU') return error
  const server = databaseErrorFields(error.cause).message
  const asked = `${RestoreInputs.AsOfSystemTime} ${asOf.input} (${resolved.display})`
  const end = ends.at(-1)?.text ?? 'its end'
  const list = ends.map(layer => layer.text).join(', ')
  if (NO_REVISIONS.test(server)) {
    return new ActionError(
      `Backup ${path} cannot be restored to ${asked}: the layer that covers that time was taken without revision history (the backup action's ${Inputs.RevisionHistory} input), so it restores only to the end of one of its layers (${list}).\nCockroachDB: ${server}`,
      `Give one of the end times CockroachDB names, or leave ${RestoreInputs.AsOfSystemTime} empty for the newest; to restore to any time in between, take backups with ${Inputs.RevisionHistory}: true.`,
      { cause: error }
    )
  }
  const from = REVISIONS_FROM.exec(server)?.[1]
  if (from !== undefined) {
    return new ActionError(
      `Backup ${path} cannot be restored to ${asked}: its revision history covers ${from} to ${end} (it starts at the GC threshold when the full backup was taken).\nCockroachDB: ${server}`,
      `Give a time in that range, or restore an older backup that covers ${resolved.display}.`,
      { cause: error }
    )
  }
  if (NOT_COVERED.test(server)) {
    return new ActionError(
      `Backup ${path} does not cover ${asked}: it ends at ${end}. ${coverageText(ends)}\nCockroachDB: ${server}`,
      `Give a time up to ${end}, or leave ${RestoreInputs.AsOfSystemTime} empty to restore the backup's end.`,
      { cause: error }
    )
  }
  return error
}
