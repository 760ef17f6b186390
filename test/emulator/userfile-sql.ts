/**
 * SELECTs on a userfile prefix's two tables, `<prefix>_upload_files` and `<prefix>_upload_payload`
 * (schemas in pkg/cloud/userfile/filetable/file_table_read_writer.go), answered from the same rows
 * BACKUP writes, so a download reads back exactly what the backup stored.
 */
import type { Cluster, PayloadRow, UserfileRow, UserfileTables } from './cluster.js'
import { CrdbError, undefinedColumn } from './errors.js'
import type { Condition, SelectUserfileStatement, Value, WriteStatement } from './statements.js'

type InsertUserfile = Extract<WriteStatement, { kind: 'insert-userfile' }>
type DeleteUserfile = Extract<WriteStatement, { kind: 'delete-userfile' }>
type UpdateUserfile = Extract<WriteStatement, { kind: 'update-userfile' }>
import type { ColumnType } from './profiles.js'
import { formatTimestamp, type ColumnDef, type Row } from './show.js'

type Which = 'files' | 'payload'

const COLUMNS: Record<Which, Record<string, ColumnType>> = {
  files: { filename: 'STRING', file_id: 'UUID', file_size: 'INT8', username: 'STRING', upload_time: 'TIMESTAMP' },
  payload: { file_id: 'UUID', byte_offset: 'INT8', payload: 'BYTES' }
}

/** A qualified name's parts as CockroachDB reads them: `"…"` verbatim (with `""`), bare lower-cased. */
function nameParts(prefix: string): string[] {
  const parts: string[] = []
  const re = /"((?:[^"]|"")*)"|([^.]+)/g
  for (const match of prefix.matchAll(re))
    parts.push(match[1] !== undefined ? match[1].replaceAll('""', '"') : (match[2] ?? '').toLowerCase())
  return parts
}

function findTables(cluster: Cluster, table: string[]): { tables: UserfileTables; which: Which } {
  const last = table.at(-1) ?? ''
  const which: Which | undefined = last.endsWith('_upload_files') ? 'files' : last.endsWith('_upload_payload') ? 'payload' : undefined
  const base = which && [...table.slice(0, -1), last.slice(0, -`_upload_${which}`.length)]
  for (const tables of cluster.userfiles.values()) {
    const parts = nameParts(tables.prefix)
    // A one- or two-part name is resolved in defaultdb.public, the session's usual database.
    const full = [...['defaultdb', 'public'].slice(0, 3 - (base?.length ?? 0)), ...(base ?? [])]
    if (which && parts.join('\0') === full.join('\0')) return { tables, which }
  }
  throw new CrdbError(`relation "${table.join('.')}" does not exist`, '42P01')
}

function likeToRegExp(pattern: string): RegExp {
  let body = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i)
    if (c === '\\' && i + 1 < pattern.length) body += pattern.charAt(++i).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    else if (c === '%') body += '.*'
    else if (c === '_') body += '.'
    else body += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${body}$`, 's')
}

type Record_ = Record<string, string | number | Buffer | Date>

function asRecord(which: Which, row: UserfileRow | PayloadRow): Record_ {
  if (which === 'files') {
    const f = row as UserfileRow
    return { filename: f.filename, file_id: f.fileId, file_size: f.fileSize, username: f.username, upload_time: f.uploadTime }
  }
  const p = row as PayloadRow
  return { file_id: p.fileId, byte_offset: p.byteOffset, payload: p.payload }
}

/** Whether a row meets every condition; an `IN (SELECT …)` reads the other table's current rows. */
function meetsAll(cluster: Cluster, record: Record_, where: Condition[], text: (value: Value) => string): boolean {
  return where.every(condition => {
    if (condition.op === 'any') return arrayElements(text(condition.value)).includes(String(record[condition.column]))
    if (condition.op !== 'in') return matches(record, condition, text(condition.value))
    const cell = record[condition.column]
    if (cell === undefined) throw undefinedColumn(condition.column)
    const { tables, which } = findTables(cluster, condition.subquery.table)
    const source: (UserfileRow | PayloadRow)[] = which === 'files' ? tables.files : tables.payload
    return source
      .map(row => asRecord(which, row))
      .filter(inner => meetsAll(cluster, inner, condition.subquery.where, text))
      .some(inner => {
        const value = inner[condition.subquery.column]
        if (value === undefined) throw undefinedColumn(condition.subquery.column)
        return String(value) === String(cell)
      })
  })
}

/** An array parameter in text form, `{a,b}` or `{"a","b"}` (how node-postgres sends a JS array); only plain elements. */
function arrayElements(text: string): string[] {
  if (!text.startsWith('{') || !text.endsWith('}')) throw new CrdbError(`could not parse "${text.slice(0, 20)}" as type uuid[]`, '22P02')
  const body = text.slice(1, -1)
  return body === '' ? [] : body.split(',').map(element => element.replace(/^"(.*)"$/, '$1'))
}

function matches(record: Record_, condition: Exclude<Condition, { op: 'in' | 'any' }>, value: string): boolean {
  const cell = record[condition.column]
  if (cell === undefined) throw undefinedColumn(condition.column)
  if (condition.op === 'like') return likeToRegExp(value).test(String(cell))
  if (typeof cell === 'number') return condition.op === '=' ? cell === Number(value) : cell >= Number(value)
  return condition.op === '=' ? String(cell) === value : String(cell) >= value
}

function encode(cell: string | number | Buffer | Date): string {
  if (Buffer.isBuffer(cell)) return `\\x${cell.toString('hex')}`
  if (cell instanceof Date) return formatTimestamp(cell.getTime(), 'TIMESTAMP')
  return String(cell)
}

export function userfileSelectColumns(cluster: Cluster, statement: SelectUserfileStatement): ColumnDef[] {
  const { which } = findTables(cluster, statement.table)
  return statement.columns.map(({ column, encoding, aggregate, name }) => {
    // count is INT8; sum over INT8 is DECIMAL in CockroachDB.
    if (aggregate === 'count') return { name, type: 'INT8' }
    if (aggregate === 'sum-length') return { name, type: 'DECIMAL' }
    const type = COLUMNS[which][column]
    if (type === undefined) throw undefinedColumn(column)
    if (encoding !== undefined && (type !== 'BYTES' || !['base64', 'hex'].includes(encoding))) {
      throw new CrdbError(`unknown or unsupported encode(${type}, '${encoding}')`, '22023')
    }
    return { name, type: encoding === undefined ? type : 'STRING' }
  })
}

export function selectUserfile(cluster: Cluster, statement: SelectUserfileStatement, text: (value: Value) => string): Row[] {
  const { tables, which } = findTables(cluster, statement.table)
  const source: (UserfileRow | PayloadRow)[] = which === 'files' ? tables.files : tables.payload
  let records = source.map(row => asRecord(which, row)).filter(record => meetsAll(cluster, record, statement.where, text))
  const compare = (a: Record_, b: Record_, column: string): number => {
    const [x, y] = [a[column], b[column]]
    if (x === undefined) throw undefinedColumn(column)
    return typeof x === 'number' && typeof y === 'number' ? x - y : String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0
  }
  if (statement.orderBy.length > 0) {
    records = records.sort((a, b) => statement.orderBy.reduce((order, column) => order || compare(a, b, column), 0))
  }
  if (statement.limit !== undefined) records = records.slice(0, Number(text(statement.limit)))
  userfileSelectColumns(cluster, statement) // the same checks as Describe
  if (statement.columns.some(c => c.aggregate !== undefined)) {
    return [
      statement.columns.map(({ column, aggregate }) => {
        if (aggregate === 'count') return String(records.length)
        if (aggregate === 'sum-length')
          return String(records.reduce((sum, r) => sum + (Buffer.isBuffer(r[column]) ? r[column].length : 0), 0))
        throw new CrdbError(`column "${column}" must appear in the GROUP BY clause or be used in an aggregate function`, '42803')
      })
    ]
  }
  return records.map(record =>
    statement.columns.map(({ column, encoding }) => {
      const cell = record[column] ?? ''
      // CockroachDB's encode(…, 'base64') is Go's StdEncoding: no line breaks.
      return encoding !== undefined && Buffer.isBuffer(cell) ? cell.toString(encoding as 'base64' | 'hex') : encode(cell)
    })
  )
}

/** A bytea parameter: `\x…` hex (how the wire layer passes binary and text bytea alike). */
function bytesOf(text: string): Buffer {
  return text.startsWith('\\x') ? Buffer.from(text.slice(2), 'hex') : Buffer.from(text, 'utf8')
}

function rowsMatching(
  cluster: Cluster,
  tables: UserfileTables,
  which: Which,
  where: Condition[],
  text: (value: Value) => string
): (UserfileRow | PayloadRow)[] {
  const source: (UserfileRow | PayloadRow)[] = which === 'files' ? tables.files : tables.payload
  return source.filter(row => meetsAll(cluster, asRecord(which, row), where, text))
}

/** INSERT INTO <files> / <payload>: the columns `cockroach userfile upload` and the action write. */
export function insertUserfile(cluster: Cluster, statement: InsertUserfile, text: (value: Value) => string, user: string): number {
  const { tables, which } = findTables(cluster, statement.table)
  const given = new Map(statement.columns.map((column, i) => [column, statement.values[i]]))
  const value = (column: string): string | undefined => {
    const v = given.get(column)
    return v === undefined ? undefined : text(v)
  }
  for (const column of given.keys()) if (COLUMNS[which][column] === undefined) throw undefinedColumn(column)
  const table = statement.table.at(-1) ?? ''
  if (which === 'files') {
    const filename = value('filename') ?? ''
    if (tables.files.some(f => f.filename === filename)) {
      throw new CrdbError(`duplicate key value violates unique constraint "${table}_pkey"`, '23505')
    }
    tables.files.push({
      filename,
      fileId: value('file_id') ?? '',
      fileSize: Number(value('file_size') ?? 0),
      username: value('username') ?? user,
      uploadTime: cluster.now()
    })
    return 1
  }
  const fileId = value('file_id') ?? ''
  if (!tables.files.some(f => f.fileId === fileId)) {
    throw new CrdbError(`insert on table "${table}" violates foreign key constraint "file_id_fk"`, '23503')
  }
  const byteOffset = Number(value('byte_offset') ?? 0)
  if (tables.payload.some(p => p.fileId === fileId && p.byteOffset === byteOffset)) {
    throw new CrdbError(`duplicate key value violates unique constraint "${table}_pkey"`, '23505')
  }
  tables.payload.push({ fileId, byteOffset, payload: bytesOf(value('payload') ?? '') })
  return 1
}

export function deleteUserfile(cluster: Cluster, statement: DeleteUserfile, text: (value: Value) => string): number {
  const { tables, which } = findTables(cluster, statement.table)
  const doomed = new Set(rowsMatching(cluster, tables, which, statement.where, text))
  if (which === 'files') tables.files = tables.files.filter(row => !doomed.has(row))
  else tables.payload = tables.payload.filter(row => !doomed.has(row))
  return doomed.size
}

export function updateUserfile(cluster: Cluster, statement: UpdateUserfile, text: (value: Value) => string): number {
  const { tables, which } = findTables(cluster, statement.table)
  if (which !== 'files' || statement.set.some(s => s.column !== 'filename')) {
    throw new CrdbError('the emulator updates only the filename of a userfile', '0A000')
  }
  const rows = rowsMatching(cluster, tables, which, statement.where, text) as UserfileRow[]
  for (const { value } of statement.set) {
    const filename = text(value)
    if (tables.files.some(f => f.filename === filename && !rows.includes(f))) {
      throw new CrdbError(`duplicate key value violates unique constraint "${statement.table.at(-1) ?? ''}_pkey"`, '23505')
    }
    for (const row of rows) row.filename = filename
  }
  return rows.length
}
