/**
 * BACKUP: planning (AS OF SYSTEM TIME, targets, destination), the job description, and the files
 * a finished job writes. Sources: pkg/ccl/backupccl/backup_planning.go and backupdest/
 * backup_destination.go (pkg/backup/… from v24.3); see docs/cockroachdb-facts.md §3, §6, §12, §13.
 * Target resolution is in backup-targets.ts, the collection's folder layout in backup-layout.ts.
 */
import { evalAsOf, gcThresholdError } from './asof.js'
import {
  backupKey,
  fullBackupFolder,
  incrementalFolder,
  layerFolders,
  noLatestBackup,
  readLatest,
  readManifest,
  indexDirectory,
  writeIndexEntry,
  writeLatest
} from './backup-layout.js'
import { resolveTargets, type ResolvedTargets } from './backup-targets.js'
import { deletedRevisionsAsOf, sizeAsOf, type Cluster } from './cluster.js'
import { CrdbError, licenceRequired } from './errors.js'
import { encodeManifest, encrypt, manifestChecksum, pseudoRandomBytes, saltFor, type Manifest, type ManifestTable } from './manifest.js'
import type { BackupStatement } from './statements.js'
import { openStorage, type Storage } from './storage.js'

/** Where the statement asked the backup to go, with the folder fixed at planning time. */
export type PlannedDestination = { kind: 'new'; folder: string } | { kind: 'latest' } | { kind: 'subdir'; folder: string }

/** Where the job actually writes. */
export type ResolvedDestination =
  { kind: 'full'; folder: string } | { kind: 'incremental'; fullFolder: string; folder: string; previous: Manifest }

export interface BackupPlan {
  user: string
  collection: string
  storage: Storage
  targets: ResolvedTargets
  endTimeMs: number
  destination: PlannedDestination
  passphrase: string | undefined
  revisionHistory: boolean
  detached: boolean
  asOfText: string | undefined
  /** Filled at planning time by versions that resolve the destination before the job (v21.x). */
  resolved: ResolvedDestination | undefined
}

export interface BackupResult {
  rows: number
  indexEntries: number
  bytes: number
}

export function formatString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`
}

/** cloud.SanitizeExternalStorageURI: secret query parameters and a user-info password become `redacted`. */
export function sanitizeUri(uri: string): string {
  const secrets = ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'CREDENTIALS', 'BEARER_TOKEN', 'AZURE_ACCOUNT_KEY', 'AZURE_CLIENT_SECRET']
  let out = uri.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@]*):[^/@]*@/i, '$1:redacted@')
  for (const secret of secrets) out = out.replace(new RegExp(`([?&]${secret}=)[^&]*`), '$1redacted')
  return out
}

export interface PlanInput {
  statement: BackupStatement
  /** The statement's literals and parameters, resolved to text. */
  collection: string
  subdir: string | undefined
  asOf: string | undefined
  passphrase: string | undefined
  user: string
  database: string
}

/** An unlicensed cluster of a version whose incremental, revision_history and encryption need a licence. */
function needsLicence(cluster: Cluster): boolean {
  return cluster.profile.enterpriseFeaturesNeedLicence && !cluster.licensed
}

/** Everything BACKUP decides before it creates the job; throws CockroachDB's planning errors. */
export function planBackup(cluster: Cluster, input: PlanInput): BackupPlan {
  const { statement } = input
  const nowMs = cluster.now().getTime()
  const asOf = statement.asOf
  const endTimeMs = asOf ? evalAsOf(asOf.kind === 'follower-read' ? asOf : { kind: 'string', text: input.asOf ?? '' }, nowMs) : nowMs
  const storage = openStorage(cluster, input.collection, input.user)
  const gcThresholdMs = nowMs - cluster.profile.gcTtlSeconds * 1000
  if (endTimeMs < gcThresholdMs)
    throw new CrdbError(`failed to resolve targets specified in the BACKUP stmt: ${gcThresholdError(endTimeMs, gcThresholdMs).message}`)
  const targets = resolveTargets(cluster, statement.targets, input.database, endTimeMs)
  // backup_planning.go backupPlanHook: requireEnterprise for these options at planning.
  if (needsLicence(cluster) && statement.options.revisionHistory) throw licenceRequired('revision_history')
  if (needsLicence(cluster) && input.passphrase !== undefined) throw licenceRequired('encryption')
  const destination: PlannedDestination =
    statement.destination.kind === 'latest'
      ? { kind: 'latest' }
      : statement.destination.kind === 'subdir'
        ? { kind: 'subdir', folder: `/${(input.subdir ?? '').replace(/^\/+/, '')}` }
        : { kind: 'new', folder: fullBackupFolder(endTimeMs) }
  const plan: BackupPlan = {
    user: input.user,
    collection: input.collection,
    storage,
    targets,
    endTimeMs,
    destination,
    passphrase: input.passphrase,
    revisionHistory: statement.options.revisionHistory,
    detached: statement.options.detached,
    asOfText: asOf?.text,
    resolved: undefined
  }
  if (!cluster.profile.destinationResolvedInJob) plan.resolved = resolveDestination(cluster, plan)
  return plan
}

/** backupdest.ResolveDest: full or incremental, and into which folder. */
export function resolveDestination(cluster: Cluster, plan: BackupPlan): ResolvedDestination {
  const { storage, destination } = plan
  let fullFolder: string
  if (destination.kind === 'new') {
    if (storage.read(`${destination.folder}/BACKUP_MANIFEST`)) {
      throw new CrdbError(
        `A full backup already exists in ${sanitizeUri(plan.collection)}${destination.folder}. Consider running an incremental backup to this full backup via \`BACKUP INTO '${destination.folder}' IN '${sanitizeUri(plan.collection)}'\``
      )
    }
    return { kind: 'full', folder: destination.folder }
  }
  if (destination.kind === 'latest') {
    const latest = readLatest(storage)
    if (latest === undefined) throw noLatestBackup(storage)
    fullFolder = latest
  } else {
    fullFolder = destination.folder
    if (!storage.read(`${fullFolder}/BACKUP_MANIFEST`)) {
      if (!cluster.profile.subdirectoryAppendsOnly) return { kind: 'full', folder: fullFolder }
      if (cluster.profile.fullBackupIntoSubdirError === 'deprecated-syntax') {
        throw new CrdbError(
          `A full backup cannot be written to "${fullFolder}", a user defined subdirectory. To take a full backup, remove the subdirectory from the backup command (i.e. run 'BACKUP ... INTO <collectionURI>'). Or, to take a full backup at a specific subdirectory, enable the deprecated syntax by switching the "bulkio.backup.deprecated_full_backup_with_subdir.enabled" cluster setting to true; however, note this deprecated syntax will not be available in a future release.`
        )
      }
      throw new CrdbError(
        `No full backup exists in "${fullFolder}" to append an incremental backup to. To take a full backup, remove the subdirectory from the backup command (i.e. run 'BACKUP ... INTO <collectionURI>'). `
      )
    }
  }
  // v26.2 looks the chain up in the index first (FindAllIncrementalPaths), parsing the folder as a date.
  if (cluster.profile.readsBackupIndex) indexDirectory(cluster, fullFolder)
  // getBackupDetailAndManifest: requireEnterprise(…, "incremental") once there are previous layers;
  // from v22.1 this runs inside the job, so a detached BACKUP reports it in the job's error.
  if (needsLicence(cluster)) throw licenceRequired('incremental')
  const key = backupKey(storage, fullFolder, plan.passphrase)
  const layers = layerFolders(storage, fullFolder)
  const previous = readManifest(cluster, storage, layers[layers.length - 1] ?? fullFolder, key)
  return { kind: 'incremental', fullFolder, folder: incrementalFolder(cluster, fullFolder, previous.endTimeMs, plan.endTimeMs), previous }
}

/** The job description: backupJobDescription with the subdir fixed at planning (facts §3). */
export function describeBackup(cluster: Cluster, plan: BackupPlan): string {
  const { profile } = cluster
  let subdir: string
  if (plan.destination.kind === 'latest') {
    const resolved = plan.resolved
    subdir =
      !profile.descriptionKeepsLatest && resolved ? (resolved.kind === 'incremental' ? resolved.fullFolder : resolved.folder) : 'LATEST'
  } else subdir = plan.destination.folder
  const options: string[] = []
  if (plan.revisionHistory) options.push(profile.revisionHistoryIsExpression ? 'revision_history = true' : 'revision_history')
  if (plan.passphrase !== undefined) options.push("encryption_passphrase = '*****'")
  if (plan.detached) options.push('detached')
  const targets = plan.targets.text === '' ? '' : `${plan.targets.text} `
  const asOf = plan.asOfText === undefined ? '' : ` AS OF SYSTEM TIME ${plan.asOfText}`
  const withOptions =
    options.length === 0
      ? ''
      : profile.descriptionOptionsInParentheses
        ? ` WITH OPTIONS (${options.join(', ')})`
        : ` WITH ${options.join(', ')}`
  return `BACKUP ${targets}INTO ${formatString(subdir)} IN ${formatString(sanitizeUri(plan.collection))}${asOf}${withOptions}`
}

/** What a finished job leaves in the collection: manifest, checksum, statistics, data, LATEST. */
export function writeBackup(cluster: Cluster, plan: BackupPlan, resolved: ResolvedDestination, jobId: string): BackupResult {
  const { storage } = plan
  const fullFolder = resolved.kind === 'full' ? resolved.folder : resolved.fullFolder
  if (resolved.kind === 'full' && plan.passphrase !== undefined) storage.write(`${fullFolder}/ENCRYPTION-INFO`, saltFor(jobId))
  const key = backupKey(storage, fullFolder, plan.passphrase)
  const previous = resolved.kind === 'incremental' ? resolved.previous : undefined
  const gcThresholdMs = cluster.now().getTime() - cluster.profile.gcTtlSeconds * 1000
  const tables: ManifestTable[] = plan.targets.tables.map((ref, i) => {
    // What an MVCC read at the end time sees: writes committed after it are not in the backup.
    const table = cluster.databases.get(ref.database)?.schemas.get(ref.schema)?.get(ref.name)
    const size = table ? sizeAsOf(table, plan.endTimeMs) : { rows: 0, bytes: 0 }
    // A view is a table descriptor whose span holds no rows: SHOW BACKUP lists it as a table with 0
    // rows (pkg/backup/show.go backupShowerDefault), while count(*) on it after RESTORE runs its query.
    const data = table?.kind === 'view' ? { rows: 0, bytes: 0 } : size
    const before = previous?.tables.find(t => t.database === ref.database && t.schema === ref.schema && t.name === ref.name)
    const revisions = plan.revisionHistory && !before && table ? deletedRevisionsAsOf(table, gcThresholdMs, plan.endTimeMs) : 0
    const rows = before ? Math.abs(data.rows - before.totalRows) : data.rows + revisions
    const bytes = before ? Math.abs(data.bytes - before.totalBytes) : data.bytes
    const dataFile = bytes > 0 ? `data/${BigInt(jobId) + BigInt(i + 1)}.sst` : undefined
    const kind = table?.kind === undefined ? {} : { kind: table.kind, viewRows: size.rows }
    return { ...ref, rows, bytes, totalRows: data.rows, totalBytes: data.bytes, dataFile, ...kind }
  })
  for (const table of tables) {
    if (table.dataFile)
      storage.write(
        `${resolved.folder}/${table.dataFile}`,
        pseudoRandomBytes(table.bytes, `${plan.collection}${resolved.folder}/${table.dataFile}`)
      )
  }
  const manifest: Manifest = {
    jobId,
    startTimeMs: previous ? previous.endTimeMs : null,
    endTimeMs: plan.endTimeMs,
    fullCluster: plan.targets.fullCluster,
    revisionHistory: plan.revisionHistory,
    databases: plan.targets.databases,
    schemas: plan.targets.schemas,
    tables
  }
  const stored = encodeManifest(manifest, key, `${jobId}/manifest`)
  storage.write(`${resolved.folder}/BACKUP_MANIFEST`, stored)
  storage.write(`${resolved.folder}/BACKUP_MANIFEST-CHECKSUM`, manifestChecksum(stored))
  if (cluster.profile.writesStatistics) {
    const statistics = Buffer.from(
      JSON.stringify(tables.map(t => ({ table: `${t.database}.${t.schema}.${t.name}`, rowCount: t.totalRows })))
    )
    storage.write(`${resolved.folder}/BACKUP-STATISTICS`, key ? encrypt(statistics, key, `${jobId}/statistics`) : statistics)
  }
  if (cluster.profile.backupIndex !== 'none') writeIndexEntry(cluster, storage, fullFolder, resolved.folder, manifest)
  writeLatest(cluster, storage, fullFolder, cluster.now().getTime())
  return { rows: tables.reduce((n, t) => n + t.rows, 0), indexEntries: 0, bytes: tables.reduce((n, t) => n + t.bytes, 0) }
}

/** Another writer's full backup of every user database, as if taken at `endTimeMs`. */
export function writeForeignBackup(cluster: Cluster, collection: string, endTimeMs: number, jobId: string): string {
  const storage = openStorage(cluster, collection, 'root')
  const databases = [...cluster.databases.keys()].filter(name => name !== 'system' && name !== 'postgres')
  const folder = fullBackupFolder(endTimeMs)
  const plan: BackupPlan = {
    user: 'root',
    collection,
    storage,
    targets: resolveTargets(cluster, { kind: 'databases', names: databases }, 'defaultdb', endTimeMs),
    endTimeMs,
    destination: { kind: 'new', folder },
    passphrase: undefined,
    revisionHistory: false,
    detached: true,
    asOfText: undefined,
    resolved: undefined
  }
  writeBackup(cluster, plan, { kind: 'full', folder }, jobId)
  return folder
}
