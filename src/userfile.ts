/**
 * userfile storage as CockroachDB keeps it (pkg/cloud/userfile): a URI's host is the qualified
 * table prefix, and files live in two tables, `<prefix>_upload_files` (one row per file) and
 * `<prefix>_upload_payload` (the file's bytes in chunks of up to 4 MiB keyed by byte_offset).
 */
import { InputError } from './errors.js'
import { quoteIdent } from './sql.js'

export const CHUNK_SIZE = 4 * 1024 * 1024

export interface UserfileTables {
  /** Quoted, ready for SQL. */
  files: string
  payload: string
  /** The prefix as a person would write it, for messages. */
  prefix: string
}

export interface UserfileLocation {
  tables: UserfileTables
  /** The collection's path inside the storage, as stored: `/bank-backup`, or `/` at the root. */
  path: string
}

/** One part of a qualified name as CockroachDB reads it: quoted parts literally, bare ones lower-cased. */
function parseNameParts(prefix: string): string[] {
  const parts: string[] = []
  let rest = prefix
  while (rest !== '') {
    let part: string
    if (rest.startsWith('"')) {
      let i = 1
      part = ''
      for (;;) {
        if (i >= rest.length) throw new Error('unterminated quote')
        if (rest[i] === '"') {
          if (rest[i + 1] !== '"') break
          part += '"'
          i += 2
        } else {
          part += rest[i]
          i++
        }
      }
      rest = rest.slice(i + 1)
    } else {
      const dot = rest.indexOf('.')
      part = (dot === -1 ? rest : rest.slice(0, dot)).toLowerCase()
      rest = dot === -1 ? '' : rest.slice(dot)
    }
    if (part === '') throw new Error('empty name part')
    parts.push(part)
    if (rest.startsWith('.')) rest = rest.slice(1)
    else if (rest !== '') throw new Error('expected a dot')
  }
  return parts
}

/**
 * The tables behind a userfile URI. An empty host means the session user's default space,
 * `defaultdb.public.userfiles_<user>` (quoted when the user name needs it, as the server does).
 */
export function userfileLocation(collection: string, sessionUser: string, input: string): UserfileLocation {
  const match = /^userfile:\/\/([^/?#]*)(\/[^?#]*)?$/i.exec(collection)
  if (!match) throw new InputError(input, 'is for userfile:// collections only; other storages are already outside the cluster.')
  const host = decodeURIComponent(match[1] ?? '')
  const path = decodeURIComponent(match[2] ?? '')
  let parts: string[]
  try {
    parts = host === '' ? ['defaultdb', 'public', `userfiles_${sessionUser}`] : parseNameParts(host)
  } catch (error) {
    throw new InputError(input, `the collection's table prefix ${JSON.stringify(host)} is not a table name (${String(error)}).`)
  }
  if (parts.length < 1 || parts.length > 3) throw new InputError(input, `the collection's table prefix ${JSON.stringify(host)} is not a table name.`)
  const table = (suffix: string): string => [...parts.slice(0, -1), `${parts.at(-1) ?? ''}${suffix}`].map(quoteIdent).join('.')
  return {
    tables: { files: table('_upload_files'), payload: table('_upload_payload'), prefix: parts.map(quoteIdent).join('.') },
    path: path === '' ? '/' : path
  }
}

/** Go's path.Join for the two pieces CockroachDB joins: the collection path and a backup folder. */
export function joinPath(base: string, folder: string): string {
  const joined = `${base}/${folder}`.split('/').filter(part => part !== '' && part !== '.')
  return `/${joined.join('/')}`
}

/** A LIKE pattern matching exactly the names that start with `prefix` (\ is the default escape). */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, match => `\\${match}`)}%`
}
