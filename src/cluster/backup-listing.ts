/**
 * Pure logic over SHOW BACKUPS / SHOW BACKUP results: both path formats, finding the new backup,
 * and summing what it holds. No I/O here, so it is tested without a server.
 */

/**
 * SHOW BACKUPS IN lists `/2024/05/07-141012.34` (v21.2+) or `2024/05/07-141012.34` (early 2021 code,
 * and a collection at the storage root from v22.2): the same folder, so compare with a leading slash.
 */
export function pathKey(path: string): string {
  return path.startsWith('/') ? path : `/${path}`
}

export function samePath(a: string, b: string): boolean {
  return pathKey(a) === pathKey(b)
}

/** Paths listed after the backup that were not listed before, as listed after. */
export function newPaths(before: string[], after: string[]): string[] {
  const known = new Set(before.map(pathKey))
  return after.filter(path => !known.has(pathKey(path)))
}

export type Destination = { kind: 'new' } | { kind: 'latest' } | { kind: 'subdirectory'; name: string }

/**
 * An explicit subdirectory is one level deep, and SHOW BACKUPS lists only three-level folders, so
 * it never appears there; CockroachDB names it `/` + the name (backupdest.ResolveDest).
 */
export function subdirectoryPath(name: string): string {
  return `/${name.replace(/^\/+/, '')}`
}

/** The date-based folder CockroachDB gives a full backup ending at this time: `/2006/01/02-150405.00`, UTC. */
export function folderForEndTime(endTime: string): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z$/.exec(normalizeTimestamp(endTime))
  if (!match) return undefined
  const [, year, month, day, hour, minute, second, fraction = ''] = match
  return `/${year}/${month}/${day}-${hour}${minute}${second}.${fraction.padEnd(2, '0').slice(0, 2)}`
}

export interface IdentifyInput {
  destination: Destination
  before: string[]
  after: string[]
  /** From the job's description, when CockroachDB rewrote it with the folder (v22.1+). */
  jobFolder: string | undefined
  /** For an incremental: the end time of the full layer of `SHOW BACKUP 'LATEST'` after the job. */
  latestFullEndTime?: string
}

export type Identified = { ok: true; path: string } | { ok: false; reason: string }

function listedAs(after: string[], folder: string): string | undefined {
  return after.find(path => samePath(path, folder))
}

/**
 * The backup this job wrote, as SHOW BACKUPS lists it; never a guess. A full backup must be the one
 * new folder (or, with a concurrent writer, the new folder the job's description names). An
 * incremental belongs to the full backup LATEST points at, which must already have been listed.
 */
export function identifyBackup({ destination, before, after, jobFolder, latestFullEndTime }: IdentifyInput): Identified {
  if (destination.kind === 'subdirectory') return { ok: true, path: subdirectoryPath(destination.name) }
  if (destination.kind === 'latest') {
    const folder =
      jobFolder !== undefined && jobFolder.toUpperCase() !== 'LATEST' ? jobFolder : latestFullEndTime && folderForEndTime(latestFullEndTime)
    if (!folder)
      return { ok: false, reason: 'neither the job nor SHOW BACKUP LATEST says which full backup the increment was appended to.' }
    const path = listedAs(before, folder) && listedAs(after, folder)
    return path !== undefined
      ? { ok: true, path }
      : { ok: false, reason: `the increment was appended to ${folder}, which SHOW BACKUPS did not list before the job.` }
  }
  const fresh = newPaths(before, after)
  if (jobFolder !== undefined) {
    const path = fresh.find(candidate => samePath(candidate, jobFolder))
    if (path !== undefined) return { ok: true, path }
    return {
      ok: false,
      reason: `the job wrote ${jobFolder}, but SHOW BACKUPS lists it ${listedAs(after, jobFolder) ? 'as an older backup' : 'nowhere'}.`
    }
  }
  if (fresh.length === 1 && fresh[0] !== undefined) return { ok: true, path: fresh[0] }
  if (fresh.length === 0) return { ok: false, reason: 'the job succeeded but SHOW BACKUPS lists no new backup.' }
  return {
    ok: false,
    reason: `${fresh.length} new backups appeared (${fresh.join(', ')}): another backup ran into the same collection, and the job does not say which folder is its own.`
  }
}

/** One row of SHOW BACKUP, with the columns every supported version has. */
export interface ShowBackupRow {
  database_name: string | null
  parent_schema_name: string | null
  object_name: string | null
  object_type: string | null
  /** Absent before v21.2 (PR #63832): there, a full layer is the one without a start time. */
  backup_type?: string | null
  start_time: string | null
  end_time: string | null
  size_bytes: string | number | null
  rows: string | number | null
  is_full_cluster?: boolean | null
}

export interface BackedUpObject {
  name: string
  type: string
  rows: number
  bytes: number
}

export interface BackupContents {
  /** full or incremental: the layer this job wrote. */
  backupType: string
  /** When the layer is consistent, as CockroachDB printed it, normalised to ISO 8601 UTC. */
  endTime: string
  rows: number
  bytes: number
  objects: BackedUpObject[]
  layers: number
}

const toNumber = (value: string | number | null | undefined): number => (value === null || value === undefined ? 0 : Number(value))

/** `2024-05-07 14:10:12.34+00:00` / `2024-05-07 14:10:12.34` (UTC) → `2024-05-07T14:10:12.34Z`, every digit kept. */
export function normalizeTimestamp(text: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(text.trim())
  if (!match) return text
  const [, date, time, fraction = '', zone] = match
  if (zone !== undefined && !/^(Z|[+-]00(:?00)?)$/.test(zone)) {
    const offset = zone.length === 3 ? `${zone}:00` : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`
    const parsed = new Date(`${date}T${time}${offset}`)
    if (!Number.isNaN(parsed.getTime())) return `${parsed.toISOString().slice(0, 19)}${fraction}Z`
  }
  return `${date}T${time}${fraction}Z`
}

/** Orders normalised timestamps in time, whatever the number of fraction digits. */
function timeKey(normalized: string): string {
  const match = /^(.{19})(?:\.(\d+))?Z$/.exec(normalized)
  return match ? `${match[1]}.${(match[2] ?? '').padEnd(9, '0')}` : normalized
}

function objectName(row: ShowBackupRow): string {
  return [row.database_name, row.parent_schema_name, row.object_name].filter(part => part).join('.')
}

/** Orders SHOW BACKUP times; a full layer's NULL start sorts first. */
function compareTimes(a: string | null, b: string | null): number {
  const [ka, kb] = [a === null ? '' : timeKey(normalizeTimestamp(a)), b === null ? '' : timeKey(normalizeTimestamp(b))]
  return ka < kb ? -1 : ka > kb ? 1 : 0
}

/**
 * Sums the newest layer of SHOW BACKUP's rows: the layer the job just wrote. A layer is a (start,
 * end) pair: from v25.x a compacted layer (backup_compaction, compaction_job.go) spans several
 * incrementals, starting where the first began and ending where the last ended, so it shares its
 * end time with the newest of them. CockroachDB's own test counts a chain by DISTINCT (start_time,
 * end_time) (show_test.go TestShowBackupWithIDs: 12 layers, 10 end times). Of the layers ending
 * last, the one this job wrote starts latest: a compaction covering it starts earlier.
 */
export function summarizeBackup(rows: ShowBackupRow[]): BackupContents | undefined {
  const layers = new Map<string, { start: string | null; end: string }>()
  for (const row of rows) {
    if (row.end_time !== null) layers.set(`${row.start_time ?? ''}|${row.end_time}`, { start: row.start_time, end: row.end_time })
  }
  const newest = [...layers.values()].sort((a, b) => compareTimes(a.end, b.end) || compareTimes(a.start, b.start)).at(-1)
  if (newest === undefined) return undefined
  const layer = rows.filter(row => row.end_time === newest.end && row.start_time === newest.start)
  const objects = layer
    .filter(row => row.object_type === 'table')
    .map(row => ({ name: objectName(row), type: row.object_type ?? 'table', rows: toNumber(row.rows), bytes: toNumber(row.size_bytes) }))
  return {
    backupType: layer[0] ? layerType(layer[0]) : 'full',
    endTime: normalizeTimestamp(newest.end),
    rows: objects.reduce((sum, o) => sum + o.rows, 0),
    bytes: objects.reduce((sum, o) => sum + o.bytes, 0),
    objects,
    layers: layers.size
  }
}

/** A row's layer type: `backup_type`, or on versions without it, whether the layer has a start time. */
function layerType(row: ShowBackupRow): string {
  return row.backup_type ?? (row.start_time === null ? 'full' : 'incremental')
}

/** The end time of the full layer (the one without a start time) of a SHOW BACKUP result. */
export function fullLayerEndTime(rows: ShowBackupRow[]): string | undefined {
  return rows.find(row => layerType(row) === 'full' && row.end_time !== null)?.end_time ?? undefined
}

const DATE_BASED_FOLDER = /^\/?\d{4}\/\d{2}\/\d{2}-\d{6}\.\d{2}$/

/**
 * A date-based folder is named after its full layer's end time, so SHOW BACKUP can confirm that the
 * folder found is the backup this job wrote. Explicit subdirectories carry no time to compare.
 */
export function matchesFolderName(path: string, rows: ShowBackupRow[]): boolean {
  if (!DATE_BASED_FOLDER.test(path)) return true
  const end = fullLayerEndTime(rows)
  return end !== undefined && folderForEndTime(end) === pathKey(path)
}
