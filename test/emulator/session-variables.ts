/**
 * The session variables the emulator models besides its booleans: the time zone and the default
 * isolation level, which a role default or the connection's `options` may set, and what each
 * changes (docs/cockroachdb-facts.md §5b).
 */
import { CrdbError } from './errors.js'

/** Isolation levels under which cluster_logical_timestamp() is refused from v23.2 (they tolerate write skew). */
const WEAK_ISOLATION = new Set(['read committed', 'repeatable read'])

/** `-c name=value` and `--name=value` pairs of the startup `options`, names lower-cased; `\ ` keeps a space in a value. */
export function optionVariables(options: string): Map<string, string> {
  const words = options
    .trim()
    .split(/(?<!\\)\s+/)
    .filter(word => word !== '')
    .map(word => word.replace(/\\(.)/g, '$1'))
  const variables = new Map<string, string>()
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? ''
    const pair = word === '-c' ? (words[++i] ?? '') : word.startsWith('--') ? word.slice(2) : word.startsWith('-c') ? word.slice(2) : ''
    const at = pair.indexOf('=')
    if (at > 0) variables.set(pair.slice(0, at).toLowerCase(), pair.slice(at + 1).toLowerCase())
  }
  return variables
}

/** pkg/sql/sem/eval GetClusterTimestamp: `unsupported in READ COMMITTED isolation` (0A000) for levels that tolerate write skew. */
export function refuseClusterTimestamp(isolation: string | undefined): void {
  if (isolation !== undefined && WEAK_ISOLATION.has(isolation)) {
    throw new CrdbError(`unsupported in ${isolation.toUpperCase()} isolation`, '0A000')
  }
}

/**
 * Minutes east of UTC of a session time zone at `at`, read as SET TIME ZONE reads a string
 * (`timeutil.TimeZoneStringToLocation` with the ISO 8601 standard, pkg/sql/vars.go): a bare number
 * of hours counts east (`+5` is five hours ahead of UTC), but an offset with a colon or a UTC/GMT
 * prefix is POSIX, west positive (`+05:00` and `UTC+5` are five hours behind UTC;
 * `timeZoneOffsetStringConversion`, facts §5b). Zone names go through Intl; anything unknown counts as UTC.
 */
export function utcOffsetMinutes(zone: string, at: Date): number {
  const offset = /^(utc|gmt)?([+-])?(\d{1,2})(?::(\d{2}))?$/i.exec(zone.trim())
  if (offset) {
    const [, prefix, sign, hours = '0', minutes] = offset
    const east = (sign === '-' ? -1 : 1) * (Number(hours) * 60 + Number(minutes ?? 0))
    return prefix !== undefined || minutes !== undefined ? -east : east
  }
  try {
    const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
      .formatToParts(at)
      .find(part => part.type === 'timeZoneName')?.value
    const parts = /GMT([+-])(\d\d):(\d\d)/.exec(name ?? '')
    return parts ? (parts[1] === '-' ? -1 : 1) * (Number(parts[2]) * 60 + Number(parts[3])) : 0
  } catch {
    return 0
  }
}
