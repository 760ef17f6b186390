/**
 * full-every: whether this run takes a new full backup or appends an incremental, and why; the
 * reason goes into the job summary beside the `backup-type` output.
 */
import { dateFolderTime } from '../storage/backup-index.js'
import { pathKey, type Destination } from '../cluster/backup-listing.js'
import { Inputs } from '../base/constants.js'
import { InputError } from '../base/errors.js'

export interface FullEvery {
  ms: number
  /** As the input gave it: `7d`. */
  text: string
}

const UNITS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const
const MAX_MS = 366 * UNITS.d

/** `7d`, `36h`, `90m`: whole minutes, hours or days, from 1 minute to 366 days; empty means unset. */
export function parseFullEvery(value: string): FullEvery | undefined {
  const text = value.trim()
  if (text === '') return undefined
  const match = /^(\d{1,6})([mhd])$/.exec(text)
  const ms = match ? Number(match[1]) * UNITS[match[2] as keyof typeof UNITS] : 0
  if (ms < UNITS.m || ms > MAX_MS) {
    throw new InputError(
      Inputs.FullEvery,
      `${JSON.stringify(text)} is not a duration: give a whole number of minutes, hours or days, such as 7d, 36h or 90m (1m to 366d; empty takes a full backup every run).`
    )
  }
  return { ms, text }
}

export interface LayerChoice {
  destination: Destination
  /** Why this type: "the newest full backup, /2026/11/30-020000.00, is 5 days old; full-every is 7d". */
  reason: string
}

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? '' : 's'}`
}

/** An age in words, rounded down: "5 days 3 hours", "2 hours 10 minutes", "0 minutes". */
export function describeAge(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / UNITS.m)
  const [days, hours] = [Math.floor(minutes / 1440), Math.floor(minutes / 60) % 24]
  if (days > 0) return hours > 0 ? `${plural(days, 'day')} ${plural(hours, 'hour')}` : plural(days, 'day')
  if (hours > 0) return minutes % 60 > 0 ? `${plural(hours, 'hour')} ${plural(minutes % 60, 'minute')}` : plural(hours, 'hour')
  return plural(minutes, 'minute')
}

/** Why the inputs alone decide the type (no full-every). */
function fixedReason(destination: Destination): string {
  if (destination.kind === 'latest') return `${Inputs.Incremental}: true appends to the latest full backup`
  if (destination.kind === 'subdirectory') return `${Inputs.Subdirectory} ${destination.name} appends to the full backup there`
  return `a full backup on every run (neither ${Inputs.FullEvery} nor ${Inputs.Incremental} is set)`
}

/**
 * With full-every: the newest date-based full backup SHOW BACKUPS lists (a folder is named after its
 * end time; explicit subdirectories carry no time and are not counted), aged on the cluster's clock.
 * The incremental names that folder (`INTO '<folder>' IN …`) rather than LATEST: LATEST names the
 * full backup whose job completed last (backup_job.go writes it after each full backup), which is
 * another chain when a full backup AS OF an earlier time, or another workflow's, finished after it.
 */
export function chooseLayer(
  destination: Destination,
  fullEvery: FullEvery | undefined,
  listed: string[],
  clusterNowMs: number
): LayerChoice {
  if (fullEvery === undefined) return { destination, reason: fixedReason(destination) }
  const newest = listed
    .map(path => ({ path: pathKey(path), time: dateFolderTime(path) }))
    .filter((entry): entry is { path: string; time: number } => entry.time !== undefined)
    .sort((a, b) => a.time - b.time)
    .at(-1)
  if (newest === undefined) {
    return { destination: { kind: 'new' }, reason: `the collection has no full backup yet; ${Inputs.FullEvery} is ${fullEvery.text}` }
  }
  const ageMs = clusterNowMs - newest.time
  const age = `the newest full backup, ${newest.path}, is ${describeAge(ageMs)} old; ${Inputs.FullEvery} is ${fullEvery.text}`
  return ageMs < fullEvery.ms
    ? { destination: { kind: 'subdirectory', name: newest.path }, reason: age }
    : { destination: { kind: 'new' }, reason: age }
}
