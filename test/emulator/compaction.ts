/**
 * Backup compaction (v25.3+, `compactsBackups`): what a scheduled chain's compaction job leaves in a
 * collection. pkg/backup/compaction_job.go: the compacted manifest starts where the first compacted
 * incremental started and ends where the last one ended (updateCompactionBackupDetails), and is
 * written as one more incremental layer of the same full backup; SHOW BACKUP then lists it beside the
 * layers it covers (show_test.go TestShowBackupWithIDs: 12 layers, 10 distinct end times). Facts §24.
 */
import { backupKey, incrementalFolder, layerFolders, readManifest } from './backup-layout.js'
import type { Cluster } from './cluster.js'
import { encodeManifest, manifestChecksum, pseudoRandomBytes, type Manifest } from './manifest.js'
import { openStorage } from './storage.js'

/** Compacts every incremental layer of `fullFolder` into one; returns the compacted layer's folder. */
export function compactBackup(cluster: Cluster, collection: string, fullFolder: string, jobId: string, passphrase?: string): string {
  if (!cluster.profile.compactsBackups) throw new Error(`compactBackup: ${cluster.profile.name} has no backup compaction`)
  if (cluster.profile.incrementalLayout !== 'incrementals-dir-with-start') throw new Error('compactBackup: needs the v25.2+ folder names')
  const storage = openStorage(cluster, collection, 'root')
  const key = backupKey(storage, fullFolder, passphrase)
  const folders = layerFolders(storage, fullFolder)
  const [full, ...incrementals] = folders.map(folder => readManifest(cluster, storage, folder, key))
  const first = incrementals[0]
  const last = incrementals.at(-1)
  if (full === undefined || first === undefined || first.startTimeMs === null || last === undefined || incrementals.length < 2) {
    throw new Error(`compactBackup: ${fullFolder} has fewer than two incremental layers to compact`)
  }
  const before = (name: string, database: string, schema: string) =>
    full.tables.find(t => t.name === name && t.database === database && t.schema === schema)
  const folder = incrementalFolder(cluster, fullFolder, first.startTimeMs, last.endTimeMs)
  const manifest: Manifest = {
    ...last,
    jobId,
    startTimeMs: first.startTimeMs,
    tables: last.tables.map(table => {
      const base = before(table.name, table.database, table.schema)
      const rows = Math.abs(table.totalRows - (base?.totalRows ?? 0))
      const bytes = Math.abs(table.totalBytes - (base?.totalBytes ?? 0))
      const dataFile = bytes > 0 ? `data/${jobId}-${table.name}.sst` : undefined
      if (dataFile) storage.write(`${folder}/${dataFile}`, pseudoRandomBytes(bytes, `${collection}${folder}/${dataFile}`))
      return { ...table, rows, bytes, dataFile }
    })
  }
  const stored = encodeManifest(manifest, key, `${jobId}/manifest`)
  storage.write(`${folder}/BACKUP_MANIFEST`, stored)
  storage.write(`${folder}/BACKUP_MANIFEST-CHECKSUM`, manifestChecksum(stored))
  // Statistics as the newest layer has them (what the compaction job writes there is not modelled).
  const statistics = storage.read(`${folders.at(-1)}/BACKUP-STATISTICS`)
  if (statistics) storage.write(`${folder}/BACKUP-STATISTICS`, statistics)
  return folder
}
