/**
 * RESTORE … AS OF SYSTEM TIME: which layers of a chain a time needs, with CockroachDB's refusals
 * (pkg/backup/backupinfo/manifest_handling.go ValidateEndTimeAndTruncate; in
 * pkg/ccl/backupccl before v24.3, the same texts since v20.2: facts "Point-in-time restore"), and the tables' sizes at
 * that time. The same on every profile. Errors are plain errors.Errorf: XXUUU.
 */
import { CrdbError } from './errors.js'
import type { Manifest, ManifestTable } from './manifest.js'

/** Go's time.Time String() of a UTC time, as the errors print it: `2026-12-05 10:12:13.45 +0000 UTC`. */
export function goTimeString(ms: number): string {
  const iso = new Date(ms).toISOString()
  const fraction = iso.slice(20, 23).replace(/0+$/, '')
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction ? `.${fraction}` : ''} +0000 UTC`
}

const PREFIX = 'invalid RESTORE timestamp:'

/**
 * The layers RESTORE reads for a restore as of `ms` (full first, up to the one covering it), or
 * CockroachDB's error. A layer covers (start, end], a full backup's start being zero; a time other
 * than a layer's end needs that layer's revision history, which starts at its RevisionStartTime.
 */
export function layersAsOf(layers: Manifest[], ms: number): Manifest[] {
  for (const [i, layer] of layers.entries()) {
    if (!((layer.startTimeMs ?? 0) < ms && ms <= layer.endTimeMs)) continue
    if (ms !== layer.endTimeMs) {
      if (!layer.revisionHistory) {
        const prefix = `${PREFIX} restoring to arbitrary time requires that BACKUP for requested time be created with 'revision_history' option.`
        const previous = layers[i - 1]
        throw new CrdbError(
          previous === undefined
            ? `${prefix} nearest backup time is ${goTimeString(layer.endTimeMs)}`
            : `${prefix} nearest BACKUP times are ${goTimeString(previous.endTimeMs)} or ${goTimeString(layer.endTimeMs)}`
        )
      }
      const from = layer.revisionStartTimeMs ?? 0
      if (ms <= from) throw new CrdbError(`${PREFIX} BACKUP for requested time only has revision history from ${goTimeString(from)}`)
    }
    return layers.slice(0, i + 1)
  }
  throw new CrdbError(`${PREFIX} supplied backups do not cover requested time`)
}

/** A table's size at `ms` in the layer that covers it: its last revision by then, or the layer's end size. */
export function tableSizeAsOf(table: ManifestTable, ms: number): { rows: number; bytes: number } {
  const revision = table.revisions?.filter(r => r.atMs <= ms).at(-1)
  return revision ? { rows: revision.rows, bytes: revision.bytes } : { rows: table.totalRows, bytes: table.totalBytes }
}
