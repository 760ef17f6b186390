/**
 * For the hint of a failure only: what was asked for that the session cannot see, and what it can
 * see instead (databases and tables closest name first, backups newest first). Each listing gets a
 * short timeout; if it fails, there is no hint.
 */
import { pathKey } from './backup-listing.js'
import type { ResolvedCollection } from './collection.js'
import type { Session } from './connection.js'
import * as sql from './sql/index.js'
import type { BackupTarget } from './targets.js'

const LISTING_TIMEOUT_MS = 3_000
/** A hint names this many; the rest are counted. */
const SHOWN = 8

/** Levenshtein distance: a typo ("bnak") is a short edit away from the name meant. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

/** The names, closest to `wanted` first (case aside), then alphabetical; at most SHOWN, the rest counted. */
export function closestFirst(wanted: string, names: string[]): string {
  const distance = (name: string): number => editDistance(wanted.toLowerCase(), name.toLowerCase())
  const sorted = [...names].sort((a, b) => distance(a) - distance(b) || a.localeCompare(b))
  const more = sorted.length - SHOWN
  return sorted.length === 0 ? 'none' : sorted.slice(0, SHOWN).join(', ') + (more > 0 ? `, and ${more} more` : '')
}

async function listDatabases(session: Session): Promise<string[]> {
  const rows = await session.query<{ database_name: string }>(sql.LIST_DATABASES, [], 'listing the databases', LISTING_TIMEOUT_MS)
  return rows.map(row => row.database_name)
}

async function listTables(session: Session, database: string): Promise<string[]> {
  const rows = await session.query<{ schema_name: string; table_name: string }>(
    sql.listTables(database),
    [],
    `listing the tables of ${database}`,
    LISTING_TIMEOUT_MS
  )
  return rows.map(row => `${row.schema_name}.${row.table_name}`)
}

/** The first target the session cannot see, and what it can see in its place. */
async function describeMissing(session: Session, target: BackupTarget): Promise<string | undefined> {
  const databases = await listDatabases(session)
  const wanted = target.kind === 'databases' ? target.databases : target.tables.map(table => table.parts[0] ?? '')
  const missing = wanted.find(name => !databases.includes(name))
  if (missing !== undefined) {
    return `There is no database "${missing}" this session can see. The databases it can see, closest first: ${closestFirst(missing, databases)}.`
  }
  if (target.kind !== 'tables') return undefined
  for (const { parts } of target.tables) {
    const [database = '', ...rest] = parts
    const table = rest.at(-1) ?? ''
    if (table === '*') continue
    const tables = await listTables(session, database)
    const found = rest.length === 2 ? tables.includes(rest.join('.')) : tables.some(name => name.endsWith(`.${table}`))
    if (found) continue
    const asked = rest.length === 2 ? rest.join('.') : table
    return `Database "${database}" has no table "${asked}". Its tables, closest first: ${closestFirst(
      asked,
      tables.map(name => (rest.length === 2 ? name : name.replace(/^public\./, '')))
    )}.`
  }
  return undefined
}

/** A hint naming what was asked for and what exists; undefined if that cannot be told (the listing failed, say). */
export async function missingTargetHint(session: Session, target: BackupTarget): Promise<string | undefined> {
  try {
    return await describeMissing(session, target)
  } catch {
    return undefined // a hint, not the failure: the original error stands
  }
}

/** The paths SHOW BACKUPS lists, newest first (date-based folder names sort by time, facts §25); undefined if that fails. */
export async function backupsNewestFirst(session: Session, collection: ResolvedCollection): Promise<string[] | undefined> {
  try {
    const rows = await session.query<{ path?: string }>(
      sql.showBackups(collection.collection),
      [],
      `listing the backups in ${collection.collectionForDisplay}`,
      LISTING_TIMEOUT_MS
    )
    return rows
      .map(row => row.path)
      .filter(path => typeof path === 'string')
      .map(pathKey)
      .sort()
      .reverse()
  } catch {
    return undefined // a hint, not the failure
  }
}
