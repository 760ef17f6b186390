/**
 * RESTORE … FROM '<folder>' IN '<collection>': reads the backup through the same code SHOW BACKUP
 * uses (so a backup only restores if it reads back), then, when the job completes, creates the
 * databases and tables the newest layer describes. Planning errors come back from the statement, as
 * RESTORE's planning runs before the job (pkg/ccl/backupccl/restore_planning.go). Error texts marked
 * "approximate" in README.md were not confirmed from source.
 */
import { addDatabase, type Cluster, type TableModel, type TableSize } from './cluster.js'
import { CrdbError } from './errors.js'
import type { RestoreStatement, Value } from './statements.js'
import { backupLayers, showBackup, showBackupColumns } from './show.js'
import { openStorage } from './storage.js'

interface BackedUpTable {
  database: string
  schema: string
  table: string
  size: RestoredTable
}

/** A table as RESTORE creates it: the size at the backup's end time, and what kind of relation it is. */
type RestoredTable = TableSize & Pick<TableModel, 'kind'>

export interface RestorePlan {
  /** database → `schema.table` → size, as the restore will create them. */
  databases: Map<string, Record<string, RestoredTable>>
  /** true: whole databases are created; false: tables go into existing databases. */
  createsDatabases: boolean
  description: string
}

/** The newest layer's view of every table in the backup (layers come full first). */
function tablesInBackup(
  cluster: Cluster,
  collection: string,
  folder: string,
  passphrase: string | undefined,
  user: string
): BackedUpTable[] {
  const storage = openStorage(cluster, collection, user)
  const rows = showBackup(cluster, storage, { subdir: folder, checkFiles: false, passphrase })
  // The newest layer's table sizes are the tables at the backup's end time (SHOW BACKUP's `rows` are
  // what each layer exported: a change, or revisions); a view holds what its query returned.
  const newest = backupLayers(cluster, storage, folder, passphrase).at(-1)
  const sizeOf = (database: string, schema: string, table: string): RestoredTable | undefined => {
    const found = newest?.tables.find(t => t.database === database && t.schema === schema && t.name === table)
    if (!found) return undefined
    return found.kind === undefined
      ? { rows: found.totalRows, bytes: found.totalBytes }
      : { rows: found.viewRows ?? 0, bytes: 0, kind: found.kind }
  }
  const names = showBackupColumns(cluster, false).map(column => column.name)
  const at = (row: (string | null)[], name: string): string | null => row[names.indexOf(name)] ?? null
  const tables = new Map<string, BackedUpTable>()
  for (const row of rows) {
    if (at(row, 'object_type') !== 'table') continue
    const [database, schema, table] = [
      at(row, 'database_name') ?? '',
      at(row, 'parent_schema_name') ?? 'public',
      at(row, 'object_name') ?? ''
    ]
    tables.set(`${database}\0${schema}\0${table}`, {
      database,
      schema,
      table,
      size: sizeOf(database, schema, table) ?? { rows: Number(at(row, 'rows') ?? 0), bytes: Number(at(row, 'size_bytes') ?? 0) }
    })
  }
  return [...tables.values()]
}

function matchesPattern(parts: string[], star: boolean, table: BackedUpTable): boolean {
  const [database, ...rest] = parts
  if (database !== table.database) return false
  if (star) return rest.length === 0 || rest[0] === table.schema
  if (rest.length === 1) return rest[0] === table.table
  return rest[0] === table.schema && rest[1] === table.table
}

export function planRestore(
  cluster: Cluster,
  statement: RestoreStatement,
  text: (value: Value) => string,
  user: string,
  sql: string
): RestorePlan {
  const tables = tablesInBackup(
    cluster,
    text(statement.collection),
    text(statement.path),
    statement.passphrase && text(statement.passphrase),
    user
  )
  if (statement.newDbName !== undefined && !cluster.profile.restoreHasNewDbName) {
    throw new CrdbError('at or near "new_db_name": syntax error', '42601')
  }
  const newDbName = statement.newDbName && text(statement.newDbName)
  const intoDb = statement.intoDb && text(statement.intoDb)
  const databases = new Map<string, Record<string, RestoredTable>>()
  const add = (database: string, table: BackedUpTable): void => {
    const entry = databases.get(database) ?? {}
    entry[`${table.schema}.${table.table}`] = table.size
    databases.set(database, entry)
  }
  const targets = statement.targets
  if (targets.kind === 'cluster') throw new CrdbError('the emulator restores databases and tables only', '0A000')
  if (targets.kind === 'databases') {
    if (newDbName !== undefined && targets.names.length !== 1) {
      throw new CrdbError('RESTORE new_db_name only works when restoring a single database', '0A000') // approximate
    }
    for (const name of targets.names) {
      if (!tables.some(t => t.database === name)) throw new CrdbError(`database "${name}" not found in the backup`, 'XXUUU') // approximate
      const target = newDbName ?? name
      // restore_planning.go allocateDescriptorRewrites: a plain errors.Errorf, so XXUUU, on every version.
      if (cluster.databases.has(target)) throw new CrdbError(`database "${target}" already exists`)
      for (const table of tables.filter(t => t.database === name)) add(target, table)
      if (!databases.has(target)) databases.set(target, {})
    }
  } else {
    for (const pattern of targets.patterns) {
      const found = tables.filter(t => matchesPattern(pattern.parts, pattern.star, t))
      if (found.length === 0) throw new CrdbError(`table "${pattern.parts.join('.')}" does not exist in the backup`, 'XXUUU') // approximate
      for (const table of found) {
        const target = intoDb ?? table.database
        const existing = cluster.databases.get(target)
        if (!existing) throw new CrdbError(`database "${target}" does not exist`, '3D000')
        if (existing.schemas.get(table.schema)?.has(table.table)) throw new CrdbError(`relation "${table.table}" already exists`, '42P07')
        add(target, table)
      }
    }
  }
  return { databases, createsDatabases: targets.kind === 'databases', description: sql }
}

/** What the job does when it completes: the databases and tables appear, created now. */
export function applyRestore(cluster: Cluster, plan: RestorePlan): { rows: number; bytes: number } {
  const faults = cluster.restoreFaults
  const failure = faults.failure
  faults.failure = undefined
  if (failure) throw new CrdbError(failure.message, failure.code)
  for (const tables of plan.databases.values()) {
    for (const [key, size] of Object.entries(tables)) {
      const lost = faults.lostRows.get(key)
      if (lost !== undefined) tables[key] = { ...size, rows: Math.max(0, size.rows - lost) }
    }
  }
  faults.lostRows.clear()
  const nowMs = cluster.now().getTime()
  let rows = 0
  let bytes = 0
  for (const [name, tables] of plan.databases) {
    for (const size of Object.values(tables)) {
      rows += size.rows
      bytes += size.bytes
    }
    if (plan.createsDatabases) {
      if (cluster.databases.has(name)) throw new CrdbError(`database "${name}" already exists`)
      addDatabase(cluster, name, tables, nowMs)
      continue
    }
    const database = cluster.databases.get(name)
    if (!database) throw new CrdbError(`database "${name}" does not exist`, '3D000')
    for (const [key, size] of Object.entries(tables)) {
      const [schema = 'public', table = ''] = key.split('.')
      const schemaTables = database.schemas.get(schema) ?? new Map<string, TableModel>()
      schemaTables.set(table, { ...size, createdAtMs: nowMs, writes: [{ atMs: nowMs, rows: size.rows, bytes: size.bytes }] })
      database.schemas.set(schema, schemaTables)
    }
  }
  return { rows, bytes }
}
