/**
 * `SELECT count(*) FROM db.schema.table` on an ordinary table, answered from the table's row count
 * in the model (what verify-restore sends after a RESTORE). Only fully qualified names; a userfile
 * table (`…_upload_files`, `…_upload_payload`) goes to userfile-sql.ts instead.
 */
import type { Cluster } from './cluster.js'
import { CrdbError } from './errors.js'
import type { SelectUserfileStatement } from './statements.js'
import type { ColumnDef, Row } from './show.js'

export function isTableCount(statement: SelectUserfileStatement): boolean {
  const last = statement.table.at(-1) ?? ''
  return (
    statement.table.length === 3 &&
    !last.endsWith('_upload_files') &&
    !last.endsWith('_upload_payload') &&
    statement.columns.every(column => column.aggregate === 'count')
  )
}

export function tableCountColumns(statement: SelectUserfileStatement): ColumnDef[] {
  return statement.columns.map(column => ({ name: column.name, type: 'INT8' }))
}

export function countTableRows(cluster: Cluster, statement: SelectUserfileStatement): Row[] {
  if (statement.where.length > 0) throw new CrdbError('the emulator counts whole tables only', '0A000')
  const [database = '', schema = '', table = ''] = statement.table
  const model = cluster.databases.get(database)?.schemas.get(schema)?.get(table)
  if (!model) throw new CrdbError(`relation "${statement.table.join('.')}" does not exist`, '42P01')
  return [statement.columns.map(() => String(model.rows))]
}
