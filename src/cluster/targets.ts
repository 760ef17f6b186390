/**
 * What to back up. Names are taken exactly as CockroachDB lists them (SHOW DATABASES, SHOW TABLES):
 * case-sensitive, any characters but NUL. A table part may be double-quoted to hold a dot or comma.
 */
import { Inputs } from '../base/constants.js'
import { InputError } from '../base/errors.js'

export interface TableName {
  /** `[db, table]` or `[db, schema, table]`; the last part may be `*` for every table. */
  parts: string[]
}

export type BackupTarget = { kind: 'databases'; databases: string[] } | { kind: 'tables'; tables: TableName[] }

const MAX_NAME_LENGTH = 256

function checkName(input: string, name: string): void {
  if (name.includes('\0')) throw new InputError(input, 'names cannot contain a NUL character.')
  if (name.length > MAX_NAME_LENGTH) {
    throw new InputError(input, `a name is longer than ${MAX_NAME_LENGTH} characters.`)
  }
}

/** Split on commas and newlines that are not inside double quotes. */
export function splitList(value: string): string[] {
  const items: string[] = []
  let current = ''
  let quoted = false
  for (const char of value) {
    if (char === '"') quoted = !quoted
    if (!quoted && (char === ',' || char === '\n' || char === '\r')) {
      items.push(current)
      current = ''
    } else {
      current += char
    }
  }
  items.push(current)
  return items.map(item => item.trim()).filter(item => item !== '')
}

function unique<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Set<string>()
  return items.filter(item => {
    const k = key(item)
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

export function parseDatabases(value: string): string[] {
  const names = splitList(value).map(name => unquoteWhole(Inputs.Database, name))
  names.forEach(name => checkName(Inputs.Database, name))
  return unique(names, name => name)
}

/** `"my,db"` → `my,db`; anything not wholly quoted is taken as written. */
function unquoteWhole(input: string, name: string): string {
  if (!name.startsWith('"')) return name
  const parts = splitQualifiedName(input, name)
  if (parts.length !== 1 || parts[0] === undefined) {
    throw new InputError(input, `${JSON.stringify(name)} is not one database name.`)
  }
  return parts[0]
}

/** `db.schema.table` with optional `"…"` parts (`""` inside quotes is one quote). */
export function splitQualifiedName(input: string, text: string): string[] {
  return splitNameParts(input, text).map(part => part.value)
}

interface NamePart {
  value: string
  quoted: boolean
}

function splitNameParts(input: string, text: string): NamePart[] {
  const parts: NamePart[] = []
  let i = 0
  while (i <= text.length) {
    let part = ''
    const quoted = text[i] === '"'
    if (quoted) {
      i++
      for (;;) {
        if (i >= text.length) throw new InputError(input, `${JSON.stringify(text)} has an unterminated quote.`)
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            part += '"'
            i += 2
            continue
          }
          i++
          break
        }
        part += text.charAt(i)
        i++
      }
      if (i < text.length && text[i] !== '.') {
        throw new InputError(input, `${JSON.stringify(text)}: expected a dot after a quoted name.`)
      }
    } else {
      const dot = text.indexOf('.', i)
      const end = dot === -1 ? text.length : dot
      part = text.slice(i, end).trim()
      if (part.includes('"')) throw new InputError(input, `${JSON.stringify(text)}: a quote may only wrap a whole part.`)
      i = end
    }
    if (part === '') throw new InputError(input, `${JSON.stringify(text)} has an empty name part.`)
    parts.push({ value: part, quoted })
    i++ // past the dot (or past the end)
  }
  return parts
}

export function parseTables(value: string): TableName[] {
  const tables = splitList(value).map(text => {
    const named = splitNameParts(Inputs.Tables, text)
    if (named.some(part => part.quoted && part.value === '*')) {
      // In the statement "*" would read as every table; a table named * is not worth that risk.
      throw new InputError(
        Inputs.Tables,
        `${JSON.stringify(text)}: a table named * cannot be backed up by name; write db.* for every table.`
      )
    }
    const parts = named.map(part => part.value)
    if (parts.length < 2 || parts.length > 3) {
      throw new InputError(Inputs.Tables, `${JSON.stringify(text)} must be database.table or database.schema.table.`)
    }
    parts.forEach(part => checkName(Inputs.Tables, part))
    if (parts.slice(0, -1).includes('*')) {
      throw new InputError(Inputs.Tables, `${JSON.stringify(text)}: only the last part may be *.`)
    }
    return { parts }
  })
  return unique(tables, table => JSON.stringify(table.parts))
}

/** The database the default collection is named after. */
export function firstDatabase(target: BackupTarget): string {
  const name = target.kind === 'databases' ? target.databases[0] : target.tables[0]?.parts[0]
  if (name === undefined) throw new Error('a backup target has at least one name')
  return name
}

export function describeTarget(target: BackupTarget): string {
  return target.kind === 'databases'
    ? `database${target.databases.length > 1 ? 's' : ''} ${target.databases.join(', ')}`
    : `table${target.tables.length > 1 ? 's' : ''} ${target.tables.map(t => t.parts.join('.')).join(', ')}`
}
