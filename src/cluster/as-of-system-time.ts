/**
 * The `as-of-system-time` input, checked against the forms CockroachDB accepts for BACKUP
 * (pkg/sql/sem/asof): a negative interval, an absolute timestamp, a decimal HLC timestamp, or
 * follower_read_timestamp(); or the action's own `step-start` (the default), which backup-time.ts
 * turns into a decimal HLC timestamp once connected. Anything else is refused before connecting.
 */
import { Inputs } from '../base/constants.js'
import { InputError } from '../base/errors.js'

/** A time CockroachDB reads as written: sent in the BACKUP statement unchanged. */
export type ExplicitAsOf =
  { kind: 'interval'; value: string } | { kind: 'timestamp'; value: string } | { kind: 'hlc'; value: string } | { kind: 'follower-read' }

export type AsOfSystemTime = ExplicitAsOf | { kind: 'step-start' }

/** The input's keyword for "every write committed before the step started" (the default). */
export const STEP_START = 'step-start'

const UNIT = '(?:h|m|s|ms|us|µs|ns)'
const COMPACT_INTERVAL = new RegExp(`^-(?:\\d+(?:\\.\\d+)?${UNIT})+$`)
const WORDY_UNIT = '(?:hours?|hrs?|minutes?|mins?|seconds?|secs?|milliseconds?|microseconds?)'
const WORDY_INTERVAL = new RegExp(`^-\\d+(?:\\.\\d+)?\\s*${WORDY_UNIT}$`, 'i')
const CLOCK_INTERVAL = /^-\d{1,2}:\d{2}:\d{2}(?:\.\d{1,6})?$/
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/
const HLC = /^\d{1,19}(?:\.\d{1,10})?$/
const FOLLOWER_READ = /^follower_read_timestamp\(\s*\)$/i

const ACCEPTED =
  `${STEP_START} (the default: every write committed before the step started); ` +
  "a negative interval such as -10s, -1m30s or -2h; a timestamp such as '2024-05-07 14:10:12.34'; " +
  'a decimal HLC timestamp such as 1715091012340000000.0000000000; or follower_read_timestamp()'

/** A date that exists on the calendar (2024-02-30 does not), with a time of day that does. */
function isRealDate(match: RegExpExecArray): boolean {
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = match.slice(1, 7).map(part => (part ? Number(part) : 0))
  const date = new Date(Date.UTC(year, month - 1, day))
  const calendar = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
  return calendar && hour <= 23 && minute <= 59 && second <= 59
}

/** undefined means "no AS OF SYSTEM TIME clause" (the caller warns about it). */
export function parseAsOfSystemTime(raw: string): AsOfSystemTime | undefined {
  const value = raw.trim()
  if (value === '') return undefined
  if (value.toLowerCase() === STEP_START) return { kind: 'step-start' }
  if (FOLLOWER_READ.test(value)) return { kind: 'follower-read' }
  if (COMPACT_INTERVAL.test(value) || WORDY_INTERVAL.test(value) || CLOCK_INTERVAL.test(value)) {
    return { kind: 'interval', value }
  }
  const timestamp = TIMESTAMP.exec(value)
  if (timestamp && isRealDate(timestamp)) return { kind: 'timestamp', value }
  if (HLC.test(value)) return { kind: 'hlc', value }
  const positive = `-${value}`
  if (COMPACT_INTERVAL.test(positive) || WORDY_INTERVAL.test(positive)) {
    throw new InputError(
      Inputs.AsOfSystemTime,
      `${JSON.stringify(value)} is in the future; a backup reads the past. Did you mean ${positive}?`
    )
  }
  throw new InputError(Inputs.AsOfSystemTime, `${JSON.stringify(value)} is not accepted. Use ${ACCEPTED}.`)
}

export function describeAsOf(asOf: AsOfSystemTime | undefined): string {
  if (asOf === undefined) return 'now (no AS OF SYSTEM TIME)'
  if (asOf.kind === 'step-start') return "the step's start"
  return asOf.kind === 'follower-read' ? 'follower_read_timestamp()' : asOf.value
}
