/**
 * BACKUP: planning (AS OF SYSTEM TIME, targets, destination), the job description, and the files
 * a finished job writes. Sources: pkg/ccl/backupccl/backup_planning.go and backupdest/
 * backup_destination.go (pkg/backup/… from v24.3), backupresolver/targets.go; see
 * docs/cockroachdb-facts.md §3, §6, §12, §13.
 */
import { evalAsOf, gcThresholdError } from './asof.js'
import { databaseAsOf, sizeAsOf, tablesAsOf, type Cluster, type DatabaseModel } from './cluster.js'
import { CrdbError, licenceRequired, SQLSTATE } from './errors.js'
import {
  decodeManifest,
  deriveKey,
  encodeManifest,
  encrypt,
  manifestChecksum,
  pseudoRandomBytes,
  saltFor,
  type Manifest,
  type ManifestTable
} from './manifest.js'
import type { BackupStatement, BackupTargets, TablePattern } from './statements.js'
import { openStorage, type Storage } from './storage.js'

export interface TableRef {
  database: string
  schema: string
  name: string
}

export interface ResolvedTargets {
  fullCluster: boolean
  databases: string[]
  schemas: { database: string; name: string }[]
  tables: TableRef[]
  /** The target list as the job description prints it (`DATABASE bank`, `TABLE bank.public.t`). */
  text: string
}

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

/** The UTC fields Go's layouts use; hundredths are truncated, as Go's `.00` does. */
function utc(ms: number): { year: string; month: string; day: string; clock: string } {
  const d = new Date(ms)
  const two = (n: number): string => String(n).padStart(2, '0')
  const clock = `${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}.${two(Math.floor(d.getUTCMilliseconds() / 10))}`
  return { year: String(d.getUTCFullYear()), month: two(d.getUTCMonth() + 1), day: two(d.getUTCDate()), clock }
}

/** Go layout `/2006/01/02-150405.00` in UTC (backupbase.DateBasedIntoFolderName). */
export function fullBackupFolder(ms: number): string {
  const t = utc(ms)
  return `/${t.year}/${t.month}/${t.day}-${t.clock}`
}

/** `20060102/150405.00` (backupbase.DateBasedIncFolderName, no leading slash), or `20060102-150405.00`. */
function incrementalStamp(ms: number, separator: '/' | '-'): string {
  const t = utc(ms)
  return `${t.year}${t.month}${t.day}${separator}${t.clock}`
}

/** The folder of an incremental layer, relative to the collection (facts §13). */
function incrementalFolder(cluster: Cluster, fullFolder: string, startMs: number, endMs: number): string {
  switch (cluster.profile.incrementalLayout) {
    case 'inside-full':
      return `${fullFolder}/${incrementalStamp(endMs, '/')}`
    case 'incrementals-dir':
      return `/incrementals${fullFolder}/${incrementalStamp(endMs, '/')}`
    case 'incrementals-dir-with-start':
      return `/incrementals${fullFolder}/${incrementalStamp(endMs, '/')}-${incrementalStamp(startMs, '-')}`
  }
}

/** An incremental layer's stamp: `20240507/150000.00`, optionally `-<start>` (v25.2+). */
const INCREMENTAL_STAMP = /^\d{8}\/\d{6}\.\d{2}(-\d{8}-\d{6}\.\d{2})?$/

/** The full layer's folder, then each incremental layer's, oldest first (old and new locations). */
export function layerFolders(storage: Storage, fullFolder: string): string[] {
  const parents = [`${fullFolder}/`, `/incrementals${fullFolder}/`]
  const incrementals: { folder: string; stamp: string }[] = []
  for (const name of storage.list()) {
    const absolute = name.startsWith('/') ? name : `/${name}`
    if (!absolute.endsWith('/BACKUP_MANIFEST')) continue
    const folder = absolute.slice(0, -'/BACKUP_MANIFEST'.length)
    const parent = parents.find(p => folder.startsWith(p))
    const stamp = parent === undefined ? undefined : folder.slice(parent.length)
    if (stamp !== undefined && INCREMENTAL_STAMP.test(stamp)) incrementals.push({ folder, stamp })
  }
  incrementals.sort((a, b) => (a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : 0))
  return [fullFolder, ...incrementals.map(i => i.folder)]
}

/** The key for a backup, from the salt in the full backup's ENCRYPTION-INFO. */
export function backupKey(storage: Storage, fullFolder: string, passphrase: string | undefined): Buffer | undefined {
  if (passphrase === undefined) return undefined
  const salt = storage.read(`${fullFolder}/ENCRYPTION-INFO`)
  if (!salt) throw new CrdbError('could not find or read encryption information: no ENCRYPTION-INFO files found')
  return deriveKey(passphrase, salt)
}

export function readManifest(storage: Storage, folder: string, key: Buffer | undefined): Manifest {
  const bytes = storage.read(`${folder}/BACKUP_MANIFEST`)
  if (!bytes) throw storage.missing(`${folder}/BACKUP_MANIFEST`)
  return decodeManifest(bytes, key)
}

/** The newest `metadata/latest/LATEST-…` file (names sort newest first), else the root LATEST. */
export function readLatest(storage: Storage): string | undefined {
  const newest = storage
    .list()
    .map(name => name.replace(/^\/?/, '/'))
    .filter(name => name.startsWith('/metadata/latest/LATEST-'))
    .sort()[0]
  return (storage.read(newest ?? '/LATEST') ?? storage.read('/LATEST'))?.toString('utf8')
}

/** backupdest.ReadLatestFile's error when there is no LATEST file (58P01). */
export function noLatestBackup(storage: Storage): CrdbError {
  return new CrdbError(
    `path does not contain a completed latest backup: LATEST file could not be read in base or metadata directory: ${storage.missing('/LATEST').message}`,
    SQLSTATE.undefinedFile
  )
}

function writeLatest(cluster: Cluster, storage: Storage, fullFolder: string, nowMs: number): void {
  const content = Buffer.from(fullFolder)
  if (cluster.profile.latestFiles.root) storage.write('/LATEST', content)
  if (cluster.profile.latestFiles.metadataDir) {
    // Descending-encoded time, so that the newest file lists first (backupdest.WriteNewLatestFile).
    const descending = (0xffffffffffffffffn - BigInt(nowMs) * 1_000_000n).toString(16).padStart(16, '0')
    storage.write(`/metadata/latest/LATEST-${descending}`, content)
  }
}

/** A few of CockroachDB's reserved keywords (facts §8); enough for the names tests use. */
const RESERVED = new Set(
  'all and as backup check column database default from grant in index into select table to user where with'.split(' ')
)

/** lexbase.EncodeRestrictedSQLIdent: bare when it can be, else double-quoted. */
export function formatIdentifier(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) && !RESERVED.has(name) ? name : `"${name.replace(/"/g, '""')}"`
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

function resolveFailure(cluster: Cluster, inner: string): CrdbError {
  const suffix = cluster.profile.resolveErrorMentionsRestoreTimestamp
    ? ', or invalid RESTORE timestamp: supplied backups do not cover requested time'
    : ''
  return new CrdbError(`failed to resolve targets specified in the BACKUP stmt: ${inner}${suffix}`)
}

/** Every table of the database that existed at `ms`. */
function allTables(database: DatabaseModel, ms: number): TableRef[] {
  return [...database.schemas].flatMap(([schema, tables]) =>
    [...(tablesAsOf(tables, ms)?.keys() ?? [])].map(name => ({ database: database.name, schema, name }))
  )
}

/**
 * backupresolver: fills in what a pattern leaves out. `t` and `*` are in the session's database and
 * `public`; a two-part name is `schema.table` when the session's database has that schema, else
 * `database.table` in `public`. Names resolve against the descriptors as of the backup's time
 * (`ms`), so a database or table created later does not exist for this BACKUP.
 */
function resolvePattern(cluster: Cluster, pattern: TablePattern, currentDb: string, ms: number): { tables: TableRef[]; text: string } {
  const names = pattern.star ? [...pattern.parts, '*'] : pattern.parts
  const written = names.map(p => (p === '*' ? p : formatIdentifier(p))).join('.')
  const [first = '', second = '', third = ''] = names
  const [database, schema, last] =
    names.length === 3
      ? [first, second, third]
      : names.length === 1
        ? [currentDb, 'public', first]
        : databaseAsOf(cluster, currentDb, ms)?.schemas.has(first)
          ? [currentDb, first, second]
          : [first, 'public', second]
  const tables = tablesAsOf(databaseAsOf(cluster, database, ms)?.schemas.get(schema), ms)
  if (pattern.star) {
    if (!tables) throw resolveFailure(cluster, 'target database or schema does not exist')
    return {
      tables: [...tables.keys()].map(name => ({ database, schema, name })),
      text: `${formatIdentifier(database)}.${formatIdentifier(schema)}.*`
    }
  }
  if (!tables?.has(last)) throw resolveFailure(cluster, `table "${written}" does not exist`)
  return { tables: [{ database, schema, name: last }], text: [database, schema, last].map(formatIdentifier).join('.') }
}

function resolveTargets(cluster: Cluster, targets: BackupTargets, currentDb: string, ms: number): ResolvedTargets {
  let tables: TableRef[]
  let text: string
  if (targets.kind === 'cluster') {
    tables = [...cluster.databases.keys()].flatMap(name => {
      const database = databaseAsOf(cluster, name, ms)
      return database ? allTables(database, ms) : []
    })
    text = ''
  } else if (targets.kind === 'databases') {
    tables = targets.names.flatMap(name => {
      const database = databaseAsOf(cluster, name, ms)
      if (!database) throw resolveFailure(cluster, `database "${name}" does not exist`)
      return allTables(database, ms)
    })
    text = `DATABASE ${targets.names.map(formatIdentifier).join(', ')}`
  } else {
    const resolved = targets.patterns.map(p => resolvePattern(cluster, p, currentDb, ms))
    tables = resolved.flatMap(r => r.tables)
    text = `TABLE ${resolved.map(r => r.text).join(', ')}`
  }
  const databases =
    targets.kind === 'cluster'
      ? [...cluster.databases.keys()]
      : targets.kind === 'databases'
        ? [...targets.names]
        : [...new Set(tables.map(t => t.database))]
  const schemas =
    targets.kind === 'tables'
      ? [...new Set(tables.map(t => `${t.database}\0${t.schema}`))].map(key => {
          const [database = '', name = ''] = key.split('\0')
          return { database, name }
        })
      : databases.flatMap(database => [...(cluster.databases.get(database)?.schemas.keys() ?? [])].map(name => ({ database, name })))
  return { fullCluster: targets.kind === 'cluster', databases, schemas, tables, text }
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
      throw new CrdbError(
        `No full backup exists in "${fullFolder}" to append an incremental backup to. To take a full backup, remove the subdirectory from the backup command (i.e. run 'BACKUP ... INTO <collectionURI>'). `
      )
    }
  }
  // getBackupDetailAndManifest: requireEnterprise(…, "incremental") once there are previous layers;
  // from v22.1 this runs inside the job, so a detached BACKUP reports it in the job's error.
  if (needsLicence(cluster)) throw licenceRequired('incremental')
  const key = backupKey(storage, fullFolder, plan.passphrase)
  const layers = layerFolders(storage, fullFolder)
  const previous = readManifest(storage, layers[layers.length - 1] ?? fullFolder, key)
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
  const withOptions = options.length === 0 ? '' : ` WITH ${options.join(', ')}`
  return `BACKUP ${targets}INTO ${formatString(subdir)} IN ${formatString(sanitizeUri(plan.collection))}${asOf}${withOptions}`
}

/** What a finished job leaves in the collection: manifest, checksum, statistics, data, LATEST. */
export function writeBackup(cluster: Cluster, plan: BackupPlan, resolved: ResolvedDestination, jobId: string): BackupResult {
  const { storage } = plan
  const fullFolder = resolved.kind === 'full' ? resolved.folder : resolved.fullFolder
  if (resolved.kind === 'full' && plan.passphrase !== undefined) storage.write(`${fullFolder}/ENCRYPTION-INFO`, saltFor(jobId))
  const key = backupKey(storage, fullFolder, plan.passphrase)
  const previous = resolved.kind === 'incremental' ? resolved.previous : undefined
  const tables: ManifestTable[] = plan.targets.tables.map((ref, i) => {
    // What an MVCC read at the end time sees: writes committed after it are not in the backup.
    const table = cluster.databases.get(ref.database)?.schemas.get(ref.schema)?.get(ref.name)
    const size = table ? sizeAsOf(table, plan.endTimeMs) : { rows: 0, bytes: 0 }
    const before = previous?.tables.find(t => t.database === ref.database && t.schema === ref.schema && t.name === ref.name)
    const rows = before ? Math.abs(size.rows - before.totalRows) : size.rows
    const bytes = before ? Math.abs(size.bytes - before.totalBytes) : size.bytes
    const dataFile = bytes > 0 ? `data/${BigInt(jobId) + BigInt(i + 1)}.sst` : undefined
    return { ...ref, rows, bytes, totalRows: size.rows, totalBytes: size.bytes, dataFile }
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
  if (cluster.profile.writesBackupIndex) writeIndexEntry(storage, fullFolder, resolved.folder, manifest)
  writeLatest(cluster, storage, fullFolder, cluster.now().getTime())
  return { rows: tables.reduce((n, t) => n + t.rows, 0), indexEntries: 0, bytes: tables.reduce((n, t) => n + t.bytes, 0) }
}

/** backup_index.go flattenSubdirForIndex: `/2024/05/07-141012.34` → `2024-05-07-141012.34`. */
export function flattenSubdirForIndex(subdir: string): string {
  return subdir.replace(/^\/+|\/+$/g, '').replaceAll('/', '-')
}

/** `20060102-150405.00`-style UTC stamp for index file names (layout approximate, facts §16). */
function indexStamp(ms: number): string {
  const iso = new Date(ms).toISOString()
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}.${iso.slice(20, 22)}`
}

/**
 * WriteBackupIndexMetadata (v25.4+): `metadata/index/<flattened full subdir>/<descending end>_<start
 * or 0>_<end>_metadata.pb`, unencrypted, holding the layer's start, end and path. An incremental
 * writes one only when its full backup has one (shouldWriteIndex). The proto is stood in for by
 * JSON; names sort newest first, as EncodeDescendingTS makes them.
 */
function writeIndexEntry(storage: Storage, fullFolder: string, layerFolder: string, manifest: Manifest): void {
  const dir = `/metadata/index/${flattenSubdirForIndex(fullFolder)}`
  const isFull = manifest.startTimeMs === null
  if (!isFull && !storage.list().some(name => name.replace(/^\/?/, '/').startsWith(`${dir}/`))) return
  const descending = String(8_640_000_000_000_000 - manifest.endTimeMs).padStart(16, '0')
  const start = manifest.startTimeMs === null ? '0' : indexStamp(manifest.startTimeMs)
  const name = `${dir}/${descending}_${start}_${indexStamp(manifest.endTimeMs)}_metadata.pb`
  storage.write(name, Buffer.from(JSON.stringify({ startTimeMs: manifest.startTimeMs, endTimeMs: manifest.endTimeMs, path: layerFolder })))
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
