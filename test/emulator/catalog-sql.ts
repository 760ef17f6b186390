/**
 * The statements on databases and tables around a restore: `SELECT database_name FROM [SHOW
 * DATABASES]`, `SELECT table_name FROM [SHOW TABLES FROM db.schema]`, CREATE DATABASE, DROP DATABASE,
 * ALTER DATABASE … RENAME TO and DROP TABLE, answered from and applied to the cluster's databases
 * (the present, not a past time).
 */
import { addDatabase, type Cluster } from './cluster.js'
import { CrdbError } from './errors.js'
import type { Row } from './show.js'
import type { Value, WriteStatement } from './statements.js'

type SelectDatabases = Extract<WriteStatement, { kind: 'select-databases' }>
type SelectTables = Extract<WriteStatement, { kind: 'select-tables' }>
type DropDatabase = Extract<WriteStatement, { kind: 'drop-database' }>
type CreateDatabase = Extract<WriteStatement, { kind: 'create-database' }>
type DropTable = Extract<WriteStatement, { kind: 'drop-table' }>
type RenameDatabase = Extract<WriteStatement, { kind: 'rename-database' }>

export function selectDatabases(
  cluster: Cluster,
  statement: SelectDatabases,
  text: (v: Value) => string,
  user: string
): { rows: Row[]; tag: string } {
  const wanted = statement.name && text(statement.name)
  // v22.2+ (pkg/sql/delegate/show_databases.go): only databases the user may CONNECT to.
  const visible = (name: string): boolean =>
    !cluster.profile.showDatabasesNeedsConnect || user === 'root' || !cluster.connectRevoked.has(name)
  const names = [...cluster.databases.keys()].filter(name => (wanted === undefined || name === wanted) && visible(name)).sort()
  return { rows: names.map(name => [name]), tag: `SELECT ${names.length}` }
}

export function selectTables(cluster: Cluster, statement: SelectTables, text: (v: Value) => string): { rows: Row[]; tag: string } {
  // SHOW TABLES FROM db.schema, or FROM db (its public schema); the present, not a past time.
  const [database = '', schema = 'public'] = statement.from
  const tables = cluster.databases.get(database)?.schemas.get(schema)
  if (!tables) throw new CrdbError('target database or schema does not exist', '3F000') // approximate
  const wanted = statement.name && text(statement.name)
  const names = [...tables.keys()].filter(name => wanted === undefined || name === wanted).sort()
  // `type`: view, materialized view, sequence, else table (the CASE over pg_class.relkind there).
  const cell = (name: string, column: string): string =>
    column === 'schema_name' ? schema : column === 'type' ? (tables.get(name)?.kind ?? 'table') : name
  const rows = names.map(name => statement.columns.map(column => cell(name, column)))
  return { rows, tag: `SELECT ${rows.length}` }
}

export function dropDatabase(cluster: Cluster, statement: DropDatabase): { rows: Row[]; tag: string } {
  if (!cluster.databases.delete(statement.name) && !statement.ifExists) {
    throw new CrdbError(`database "${statement.name}" does not exist`, '3D000')
  }
  // CASCADE takes the userfile tables kept in the database with it, and every file in them.
  for (const prefix of cluster.userfiles.keys()) if (prefix.startsWith(`${statement.name}.`)) cluster.userfiles.delete(prefix)
  return { rows: [], tag: 'DROP DATABASE' }
}

/**
 * pkg/sql/rename_database.go and renameDatabase (pkg/sql/database.go), the same codes from v21.2 to
 * v26.x: an unknown database is 3D000; a taken new name 42P04 "the new database name … already
 * exists"; a relation depending on one of the database's tables (a view) 2BP01. One statement, one
 * transaction: the old name is free at once (docs/cockroachdb-facts.md).
 */
export function renameDatabase(cluster: Cluster, statement: RenameDatabase): { rows: Row[]; tag: string } {
  const database = cluster.databases.get(statement.name)
  if (!database) throw new CrdbError(`database "${statement.name}" does not exist`, '3D000')
  if (statement.name === statement.newName) return { rows: [], tag: 'RENAME DATABASE' }
  if (cluster.databases.has(statement.newName)) {
    throw new CrdbError(`the new database name "${statement.newName}" already exists`, '42P04')
  }
  if (database.dependency) {
    const { dependent, on } = database.dependency
    throw new CrdbError(
      `cannot rename database because relation "${dependent}" depends on relation "${on}"`,
      '2BP01',
      undefined,
      `consider dropping "${dependent}" first`
    )
  }
  cluster.databases.delete(statement.name)
  database.name = statement.newName
  cluster.databases.set(statement.newName, database)
  return { rows: [], tag: 'RENAME DATABASE' }
}

export function createDatabase(cluster: Cluster, statement: CreateDatabase): { rows: Row[]; tag: string } {
  if (cluster.databases.has(statement.name)) throw new CrdbError(`database "${statement.name}" already exists`, '42P04')
  addDatabase(cluster, statement.name, {})
  return { rows: [], tag: 'CREATE DATABASE' }
}

export function dropTable(cluster: Cluster, statement: DropTable): { rows: Row[]; tag: string } {
  const [database, schema, table] = statement.parts.length === 3 ? statement.parts : [statement.parts[0], 'public', statement.parts[1]]
  const dropped =
    cluster.databases
      .get(database ?? '')
      ?.schemas.get(schema ?? '')
      ?.delete(table ?? '') ?? false
  if (!dropped && !statement.ifExists) throw new CrdbError(`relation "${statement.parts.join('.')}" does not exist`, '42P01')
  return { rows: [], tag: 'DROP TABLE' }
}
