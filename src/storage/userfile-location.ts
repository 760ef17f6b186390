/**
 * Where userfile storage keeps a collection, without a server: a URI's host is the qualified table
 * prefix of `<prefix>_upload_files` and `<prefix>_upload_payload` (pkg/cloud/userfile), its path the
 * collection's folder; plus the name rules every stored and local path must follow.
 */
import { resolveUser, type Collection } from '../cluster/collection.js'
import { Inputs } from '../base/constants.js'
import { errorMessage, InputError } from '../base/errors.js'
import * as sql from '../cluster/sql/index.js'
import { redactCollection } from '../base/uri-secrets.js'

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
          part += rest.charAt(i)
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

/** A userfile URI's table prefix, as name parts (an empty host: the session user's default), and its path. */
function parseUserfileUri(collection: string, sessionUser: string): { parts: string[]; path: string } {
  const match = /^userfile:\/\/([^/?#]*)(\/[^?#]*)?$/i.exec(collection)
  if (!match) throw new Error('not a userfile:// URI without query or fragment')
  const host = decodeURIComponent(match[1] ?? '')
  const path = decodeURIComponent(match[2] ?? '')
  let parts: string[]
  try {
    parts = host === '' ? ['defaultdb', 'public', `userfiles_${sessionUser}`] : parseNameParts(host)
  } catch (error) {
    throw new Error(`the table prefix ${JSON.stringify(host)} is not a table name (${errorMessage(error)}).`)
  }
  if (parts.length > 3) throw new Error(`the table prefix ${JSON.stringify(host)} is not a table name (more than 3 parts).`)
  return { parts, path }
}

/**
 * The tables behind a userfile URI. An empty host means the session user's default space,
 * `defaultdb.public.userfiles_<user>` (quoted when the user name needs it, as the server does).
 * Throws when the URI is not userfile or its host is not a table name.
 */
export function userfileLocation(collection: string, sessionUser: string): UserfileLocation {
  const { parts, path } = parseUserfileUri(collection, sessionUser)
  const table = (suffix: string): string => [...parts.slice(0, -1), `${parts.at(-1) ?? ''}${suffix}`].map(sql.quoteIdent).join('.')
  return {
    tables: { files: table('_upload_files'), payload: table('_upload_payload'), prefix: parts.map(sql.quoteIdent).join('.') },
    path: path === '' ? '/' : path
  }
}

/**
 * The database(s) that may hold a userfile collection's tables: the first part of a 3-part prefix;
 * for a shorter one the session's database too, since `schema.table` and `table` resolve there first.
 */
export function userfileDatabases(collection: string, sessionUser: string, sessionDatabase: string): string[] {
  const { parts } = parseUserfileUri(collection, sessionUser)
  if (parts.length === 3) return [parts[0] ?? '']
  return parts.length === 2 ? [parts[0] ?? '', sessionDatabase] : [sessionDatabase]
}

/**
 * For inputs that work on userfile storage from the runner (download-path, keep-backups,
 * source-path): refuses another scheme with the input's own reason, and a userfile URI whose host
 * names no tables, before anything connects. A `$user` in the host is checked as a plain name here;
 * the session user's own name is checked again when the collection is resolved.
 */
export function requireUserfile(collection: Collection, refuse: (scheme: string) => InputError): void {
  if (collection.scheme !== 'userfile') throw refuse(collection.scheme)
  locateUserfile(resolveUser(collection.uri, 'root'), 'root')
}

/** The userfile tables and folder of a resolved collection; a host that names no table is the collection input's fault. */
export function locateUserfile(resolved: string, user: string): UserfileLocation {
  try {
    return userfileLocation(resolved, user)
  } catch (error) {
    throw new InputError(Inputs.Collection, `${redactCollection(resolved)}: ${errorMessage(error)}`)
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

/**
 * A name from the cluster becomes a path only if it cannot climb out of the directory. Control
 * characters are refused too: CockroachDB never writes them, and a line break in a name is an attack.
 */
export function safeRelativePath(relative: string): boolean {
  const parts = relative.split('/')
  return (
    relative !== '' &&
    // eslint-disable-next-line no-control-regex -- control characters are what this looks for
    parts.every(part => part !== '' && part !== '.' && part !== '..' && !part.includes('\\') && !/[\x00-\x1f\x7f]/.test(part))
  )
}
