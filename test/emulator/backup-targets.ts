/**
 * BACKUP's targets resolved as backupresolver/targets.go does: the cluster, databases, or table
 * patterns, against the descriptors as of the backup's time, and printed for the job description.
 */
import { databaseAsOf, tablesAsOf, type Cluster, type DatabaseModel } from './cluster.js'
import { CrdbError, SQLSTATE } from './errors.js'
import type { BackupTargets, TablePattern } from './statements.js'

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
  /**
   * The target list as the job description prints it: `DATABASE bank`, or the table patterns as
   * written (`TABLE accounts`, not qualified): resolution does not rewrite backupStmt.Targets, and an
   * UnresolvedName formats only its own parts (reading Q24; cockroach TestBackupRestoreSystemJobs
   * expects `BACKUP TABLE bank TO …` after `SET DATABASE = data`).
   */
  text: string
}

/** A few of CockroachDB's reserved keywords (facts §8); enough for the names tests use. */
const RESERVED = new Set(
  'all and as backup check column database default from grant in index into select table to user where with'.split(' ')
)

/** lexbase.EncodeRestrictedSQLIdent: bare when it can be, else double-quoted. */
export function formatIdentifier(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) && !RESERVED.has(name) ? name : `"${name.replace(/"/g, '""')}"`
}

function resolveFailure(cluster: Cluster, inner: string, code: string = SQLSTATE.uncategorized): CrdbError {
  const suffix = cluster.profile.resolveErrorMentionsRestoreTimestamp
    ? ', or invalid RESTORE timestamp: supplied backups do not cover requested time'
    : ''
  return new CrdbError(`failed to resolve targets specified in the BACKUP stmt: ${inner}${suffix}`, code)
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
    return { tables: [...tables.keys()].map(name => ({ database, schema, name })), text: written }
  }
  if (!tables?.has(last)) throw resolveFailure(cluster, `table "${written}" does not exist`)
  return { tables: [{ database, schema, name: last }], text: written }
}

export function resolveTargets(cluster: Cluster, targets: BackupTargets, currentDb: string, ms: number): ResolvedTargets {
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
      if (!database) throw resolveFailure(cluster, `database "${name}" does not exist`, cluster.profile.missingDatabaseCode)
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
