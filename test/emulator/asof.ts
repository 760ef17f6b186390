/**
 * AS OF SYSTEM TIME, evaluated as CockroachDB does for BACKUP (pkg/sql/sem/asof/as_of.go Eval,
 * then pkg/sql/planner.go EvalAsOfTimestamp for the future check): a string is tried as a
 * TIMESTAMPTZ, then as a decimal HLC timestamp, then as an interval added to the statement time.
 * Times are kept in milliseconds; decimal HLC input is truncated to the millisecond.
 */
import { CrdbError } from './errors.js'

/** `follower_read_timestamp()`: now minus 4.8 s (kvfollowerreadsccl's default target staleness). */
export const FOLLOWER_READ_LAG_MS = 4800

export type AsOfInput = { kind: 'string'; text: string } | { kind: 'follower-read' }

/** An HLC timestamp as CockroachDB prints it: `1715091012.340000000,0`. */
export function formatHlc(ms: number): string {
  const seconds = Math.floor(ms / 1000)
  const nanos = (ms - seconds * 1000) * 1_000_000
  return `${seconds}.${String(nanos).padStart(9, '0')},0`
}

/**
 * cluster_logical_timestamp(): the transaction's HLC time as a DECIMAL, wall nanoseconds then 10
 * digits of logical counter (TimestampToDecimal, pkg/sql/sem/eval/context.go). The emulator's clock
 * has millisecond resolution and no logical ticks.
 */
export function clusterLogicalTimestamp(ms: number): string {
  return `${BigInt(ms) * 1_000_000n}.0000000000`
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?$/i

function parseTimestamp(text: string): number | undefined {
  const m = TIMESTAMP.exec(text.trim())
  if (!m) return undefined
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone = ''] = m
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(fraction.padEnd(3, '0').slice(0, 3)))
  if (Number.isNaN(ms) || new Date(ms).getUTCDate() !== Number(d)) return undefined
  if (zone === '' || /^(z|utc)$/i.test(zone)) return ms
  const sign = zone.startsWith('-') ? -1 : 1
  const digits = zone.slice(1).replace(':', '')
  const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0')
  return ms - sign * offsetMinutes * 60_000
}

/** A decimal HLC timestamp: `<wall nanos>[.<logical>]`. */
function parseDecimal(text: string): number | undefined {
  const m = /^(\d+)(?:\.(\d{0,10}))?$/.exec(text.trim())
  if (!m?.[1]) return undefined
  return Number(BigInt(m[1]) / 1_000_000n)
}

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000
}

/** An interval in the forms BACKUP users write: `-10s`, `-1m30s`, `-2h`, `-500ms`, `-10 seconds`, `-00:00:10`. */
export function parseIntervalMs(text: string): number | undefined {
  let rest = text.trim()
  let sign = 1
  if (rest.startsWith('-')) {
    sign = -1
    rest = rest.slice(1).trim()
  } else if (rest.startsWith('+')) rest = rest.slice(1).trim()
  const clock = /^(\d+):(\d{2})(?::(\d{2}(?:\.\d+)?))?$/.exec(rest)
  if (clock) return sign * (Number(clock[1]) * 3_600_000 + Number(clock[2]) * 60_000 + Number(clock[3] ?? '0') * 1000)
  const part = /^(\d+(?:\.\d+)?)\s*([a-zµ]+)\s*/i
  let total = 0
  let matched = false
  while (rest !== '') {
    const m = part.exec(rest)
    const unit = m?.[2] ? UNIT_MS[m[2].toLowerCase()] : undefined
    if (!m?.[1] || unit === undefined) return undefined
    total += Number(m[1]) * unit
    matched = true
    rest = rest.slice(m[0].length)
  }
  return matched ? sign * total : undefined
}

/** The backup's end time for an AS OF SYSTEM TIME clause, or CockroachDB's error. */
export function evalAsOf(input: AsOfInput, nowMs: number): number {
  const fail = (message: string): CrdbError => new CrdbError(`AS OF SYSTEM TIME: ${message}`)
  let ms: number
  if (input.kind === 'follower-read') ms = nowMs - FOLLOWER_READ_LAG_MS
  else {
    const text = input.text.endsWith('?') ? input.text.slice(0, -1) : input.text
    const asTimestamp = parseTimestamp(text)
    const asDecimal = asTimestamp === undefined ? parseDecimal(text) : undefined
    const interval = asTimestamp === undefined && asDecimal === undefined ? parseIntervalMs(text) : undefined
    if (asTimestamp !== undefined) ms = asTimestamp
    else if (asDecimal !== undefined) ms = asDecimal
    else if (interval !== undefined) {
      if (interval === 0) throw fail(`interval value '${input.text}' too small, absolute value must be >= 1µs`)
      ms = nowMs + interval
    } else throw fail('value is neither timestamp, decimal, nor interval')
  }
  if (ms === 0) throw fail('zero timestamp is invalid')
  if (ms < 0) throw fail('timestamp before 1970-01-01T00:00:00Z is invalid')
  if (ms > nowMs) throw fail(`cannot specify timestamp in the future (${formatHlc(ms)} > ${formatHlc(nowMs)})`)
  return ms
}

/** The KV error for a read below the GC threshold (pkg/kv/kvserver; no SQLSTATE of its own, so XXUUU). */
export function gcThresholdError(readMs: number, thresholdMs: number): CrdbError {
  return new CrdbError(`batch timestamp ${formatHlc(readMs)} must be after replica GC threshold ${formatHlc(thresholdMs)}`)
}
