/**
 * `SELECT count(*) FROM db.schema.table [AS OF SYSTEM TIME …]` on an ordinary table or a view,
 * answered from the table's row count in the model, as of that time (what verify-restore sends
 * after a RESTORE, and for the source table at the backup's end time). Only fully qualified names; a userfile
 * table (`…_upload_files`, `…_upload_payload`) goes to userfile-sql.ts instead.
 */
import { evalAsOf, gcThresholdError } from './asof.js'
import { databaseAsOf, sizeAsOf, tablesAsOf, type Cluster } from './cluster.js'
import { CrdbError } from './errors.js'
import type { SelectUserfileStatement, Value } from './statements.js'
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

export function countTableRows(cluster: Cluster, statement: SelectUserfileStatement, text: (value: Value) => string): Row[] {
  if (statement.where.length > 0) throw new CrdbError('the emulator counts whole tables only', '0A000')
  const [database = '', schema = '', table = ''] = statement.table
  const nowMs = cluster.now().getTime()
  const asOf = statement.asOf
  const atMs =
    asOf === undefined ? nowMs : evalAsOf(asOf.kind === 'follower-read' ? asOf : { kind: 'string', text: text(asOf.value) }, nowMs)
  // A read below the GC threshold (now minus gc.ttlseconds) fails in KV (facts §6).
  const gcThresholdMs = nowMs - cluster.profile.gcTtlSeconds * 1000
  if (atMs < gcThresholdMs) throw gcThresholdError(atMs, gcThresholdMs)
  const model = tablesAsOf(databaseAsOf(cluster, database, atMs)?.schemas.get(schema), atMs)?.get(table)
  if (!model) throw new CrdbError(`relation "${statement.table.join('.')}" does not exist`, '42P01')
  return [statement.columns.map(() => String(sizeAsOf(model, atMs).rows))]
}
