/**
 * The emulated cluster's state, in plain objects: databases with table sizes, users, userfile
 * tables (per table prefix, the two tables CockroachDB keeps), other external storage, and jobs.
 * Behaviour lives in the statement modules (backup.ts, restore.ts, jobs.ts, show.ts, …); this file only shapes and seeds the state.
 */
import type { VersionProfile } from './profiles.js'

export interface TableSize {
  rows: number
  bytes: number
}

/** A committed write: the table has this size from `atMs` until the next write. */
export interface TableWrite extends TableSize {
  atMs: number
}

/**
 * A table: its size now, and for time-aware fixtures when it was created and what each write left
 * behind, so that AS OF SYSTEM TIME sees what CockroachDB's MVCC would: nothing before the
 * creation, and the size of the last write at or before the time. Without `createdAtMs` the
 * table has existed, at this size, since before any time a test asks about.
 */
export interface TableModel extends TableSize {
  createdAtMs?: number
  /** Oldest first; the last one is the current size. */
  writes?: TableWrite[]
  /**
   * What SHOW TABLES' `type` calls it (pkg/sql/delegate/show_tables.go); absent: `table`. A view is
   * a table descriptor without data of its own: `rows` is what `count(*)` on it returns.
   */
  kind?: 'view' | 'materialized view' | 'sequence'
  /** Rows deleted at each time (deleteRows): MVCC keeps their tombstones until the GC threshold passes them. */
  deletions?: TableWrite[]
}

export interface DatabaseModel {
  name: string
  /** schema name → table name → size. */
  schemas: Map<string, Map<string, TableModel>>
  /** When CREATE DATABASE committed; absent: before any time a test asks about. */
  createdAtMs?: number
  /** A view (or other relation) that depends on one of this database's tables: ALTER DATABASE … RENAME refuses it. */
  dependency?: { dependent: string; on: string }
}

/** The database as a read AS OF SYSTEM TIME `ms` sees it: undefined before it was created. */
export function databaseAsOf(cluster: Cluster, name: string, ms: number): DatabaseModel | undefined {
  const database = cluster.databases.get(name)
  return database && (database.createdAtMs ?? -Infinity) <= ms ? database : undefined
}

/** A schema's tables as of `ms`: those created by then. */
export function tablesAsOf(tables: Map<string, TableModel> | undefined, ms: number): Map<string, TableModel> | undefined {
  if (!tables) return undefined
  return new Map([...tables].filter(([, table]) => (table.createdAtMs ?? -Infinity) <= ms))
}

/** The table's size as of `ms`: the last write at or before it (0 rows right after creation). */
export function sizeAsOf(table: TableModel, ms: number): TableSize {
  if (!table.writes) return { rows: table.rows, bytes: table.bytes }
  const last = table.writes.filter(write => write.atMs <= ms).at(-1)
  return last ? { rows: last.rows, bytes: last.bytes } : { rows: 0, bytes: 0 }
}

/** A write committed at `atMs` that leaves the table at `size` (later writes stay later). */
export function recordWrite(table: TableModel, size: TableSize, atMs: number): void {
  const writes = table.writes ?? [{ atMs: table.createdAtMs ?? 0, rows: table.rows, bytes: table.bytes }]
  writes.push({ atMs, ...size })
  writes.sort((a, b) => a.atMs - b.atMs)
  table.writes = writes
  const newest = writes[writes.length - 1] ?? { ...size }
  table.rows = newest.rows
  table.bytes = newest.bytes
}

/**
 * The revisions a revision-history export of a full backup counts beyond the live rows at `endMs`:
 * for each row deleted after the GC threshold, its tombstone and the value it deleted. mvccExportToWriter
 * (pkg/storage/mvcc.go) keeps tombstones when ExportAllRevisions and counts every exported key.
 */
export function deletedRevisionsAsOf(table: TableModel, gcThresholdMs: number, endMs: number): number {
  const deleted = (table.deletions ?? []).filter(d => d.atMs > gcThresholdMs && d.atMs <= endMs)
  return deleted.reduce((sum, d) => sum + 2 * d.rows, 0)
}

/** A row of `<prefix>_upload_files` (pkg/cloud/userfile/filetable). */
export interface UserfileRow {
  filename: string
  fileId: string
  fileSize: number
  username: string
  uploadTime: Date
}

/** A row of `<prefix>_upload_payload`: one 4 MiB chunk. */
export interface PayloadRow {
  fileId: string
  byteOffset: number
  payload: Buffer
}

export interface UserfileTables {
  /** The qualified table prefix, e.g. `defaultdb.public.userfiles_root`. */
  prefix: string
  files: UserfileRow[]
  payload: PayloadRow[]
}

export type JobStatus =
  'pending' | 'running' | 'paused' | 'cancel-requested' | 'canceled' | 'failed' | 'succeeded' | 'reverting' | 'revert-failed'

export interface Job {
  /** INT8 beyond 2^53, so kept as text. */
  id: string
  type: 'BACKUP' | 'RESTORE'
  description: string
  user: string
  status: JobStatus
  fractionCompleted: number
  /** '' while there is none, as crdb_internal.jobs shows it. */
  error: string
  created: Date
  started: Date | undefined
  finished: Date | undefined
  modified: Date
  /** Rows and bytes the job reports when it succeeds. */
  result: { rows: number; indexEntries: number; bytes: number }
}

export interface Cluster {
  profile: VersionProfile
  databases: Map<string, DatabaseModel>
  /** user → password; undefined means the user has none (insecure mode lets anyone in). */
  users: Map<string, string | undefined>
  userfiles: Map<string, UserfileTables>
  /** Non-userfile storage, by `scheme://host` (nodelocal://1, s3://bucket): object key → bytes. */
  objectStores: Map<string, Map<string, Buffer>>
  jobs: Map<string, Job>
  now: () => Date
  /** Faults a test asks of the next RESTORE job (restore.ts applies and clears them). */
  restoreFaults: { failure?: { message: string; code?: string }; lostRows: Map<string, number> }
  /** Session variable defaults every new session starts with (`ALTER ROLE ALL SET name = value`). */
  roleDefaults: Map<string, string>
  /** Whether an enterprise licence is installed (only checked where the profile needs one). */
  licensed: boolean
  /** Databases whose CONNECT privilege was revoked from public: only root has it (no other privileges are modelled). */
  connectRevoked: Set<string>
  /**
   * How far ahead of this cluster's clock cluster_logical_timestamp() answers, as when a connection
   * pooler sends the clock reading to one node and the BACKUP to another whose clock trails it by
   * up to the maximum offset. The AS OF SYSTEM TIME future check uses `now()` (planner.go compares
   * with the gateway's `Clock.Now()`).
   */
  clockReadingLeadMs: number
}

/** Tables of the system database that a cluster backup includes (a representative few). */
const SYSTEM_TABLES: Record<string, TableSize> = {
  descriptor: { rows: 60, bytes: 48_000 },
  users: { rows: 3, bytes: 220 },
  role_members: { rows: 1, bytes: 90 },
  zones: { rows: 8, bytes: 640 },
  settings: { rows: 6, bytes: 700 },
  jobs: { rows: 12, bytes: 9_000 }
}

export function createCluster(profile: VersionProfile, now: () => Date): Cluster {
  const cluster: Cluster = {
    profile,
    databases: new Map(),
    users: new Map([['root', undefined]]),
    userfiles: new Map(),
    objectStores: new Map(),
    jobs: new Map(),
    now,
    restoreFaults: { lostRows: new Map() },
    roleDefaults: new Map(),
    licensed: true,
    connectRevoked: new Set(),
    clockReadingLeadMs: 0
  }
  addDatabase(cluster, 'defaultdb', {})
  addDatabase(cluster, 'postgres', {})
  addDatabase(cluster, 'system', SYSTEM_TABLES)
  return cluster
}

/**
 * Adds (or replaces) a database. A table key `schema.table` puts the table in that schema, else in
 * public. With `createdAtMs`, the database and its tables were created then, with these sizes.
 */
export function addDatabase(
  cluster: Cluster,
  name: string,
  tables: Record<string, TableSize & Pick<TableModel, 'kind'>>,
  createdAtMs?: number
): DatabaseModel {
  const database: DatabaseModel = { name, schemas: new Map([['public', new Map()]]), createdAtMs }
  for (const [key, size] of Object.entries(tables)) {
    const dot = key.indexOf('.')
    const schema = dot === -1 ? 'public' : key.slice(0, dot)
    const table = dot === -1 ? key : key.slice(dot + 1)
    let schemaTables = database.schemas.get(schema)
    if (!schemaTables) {
      schemaTables = new Map()
      database.schemas.set(schema, schemaTables)
    }
    const model: TableModel = { rows: size.rows, bytes: size.bytes, ...(size.kind === undefined ? {} : { kind: size.kind }) }
    if (createdAtMs !== undefined) {
      model.createdAtMs = createdAtMs
      model.writes = [{ atMs: createdAtMs, rows: size.rows, bytes: size.bytes }]
    }
    schemaTables.set(table, model)
  }
  cluster.databases.set(name, database)
  return database
}
