/**
 * The emulated cluster's state, in plain objects: databases with table sizes, users, userfile
 * tables (per table prefix, the two tables CockroachDB keeps), other external storage, and jobs.
 * Behaviour lives in backup.ts, jobs.ts and show.ts; this file only shapes and seeds the state.
 */
import type { VersionProfile } from './profiles.js'

export interface TableModel {
  rows: number
  bytes: number
}

export interface DatabaseModel {
  name: string
  /** schema name → table name → size. */
  schemas: Map<string, Map<string, TableModel>>
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
}

/** Tables of the system database that a cluster backup includes (a representative few). */
const SYSTEM_TABLES: Record<string, TableModel> = {
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
    connectRevoked: new Set()
  }
  addDatabase(cluster, 'defaultdb', {})
  addDatabase(cluster, 'postgres', {})
  addDatabase(cluster, 'system', SYSTEM_TABLES)
  return cluster
}

/** Adds (or replaces) a database. A table key `schema.table` puts the table in that schema, else in public. */
export function addDatabase(cluster: Cluster, name: string, tables: Record<string, TableModel>): DatabaseModel {
  const database: DatabaseModel = { name, schemas: new Map([['public', new Map()]]) }
  for (const [key, size] of Object.entries(tables)) {
    const dot = key.indexOf('.')
    const schema = dot === -1 ? 'public' : key.slice(0, dot)
    const table = dot === -1 ? key : key.slice(dot + 1)
    let schemaTables = database.schemas.get(schema)
    if (!schemaTables) {
      schemaTables = new Map()
      database.schemas.set(schema, schemaTables)
    }
    schemaTables.set(table, { ...size })
  }
  cluster.databases.set(name, database)
  return database
}
