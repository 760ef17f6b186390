/**
 * External storage as a backup sees it: a flat namespace of files under the collection's path.
 * `userfile://` keeps files in the cluster's userfile tables (4 MiB payload chunks), anything else
 * (nodelocal, s3, gs, …) in a plain object store. Listing follows fileTableStorage.List
 * (pkg/cloud/userfile/file_table_storage.go): `LIKE <path>%`, sorted, the path trimmed off the front,
 * so names under a path keep their leading slash and names at the storage root have none.
 */
import { createHash } from 'node:crypto'
import path from 'node:path/posix'
import type { Cluster, UserfileTables } from './cluster.js'
import { CrdbError, syntaxError } from './errors.js'

/** pkg/cloud/userfile/filetable: ChunkDefaultSize. */
export const USERFILE_CHUNK_BYTES = 4 * 1024 * 1024

export interface Storage {
  /** The collection URI as given. */
  uri: string
  /** Relative names (`/2024/…/BACKUP_MANIFEST`, or `2024/…` at the root), sorted ascending. */
  list(): string[]
  /** `name` is relative to the collection (a leading slash is optional). */
  read(name: string): Buffer | undefined
  write(name: string, bytes: Buffer): void
  /** The error CockroachDB's storage gives for a missing file. */
  missing(name: string): CrdbError
}

/** Go's path.Clean for the cases a URI path can hold. */
function goClean(p: string): string {
  if (p === '') return '.'
  const normal = path.normalize(p)
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal
}

/** `LIKE '<prefix>%'`: `_` and `%` in the prefix act as wildcards, as they do in CockroachDB's query. */
function likePrefix(prefix: string): RegExp {
  const body = Array.from(prefix, c => (c === '%' ? '.*' : c === '_' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('')
  return new RegExp(`^${body}`, 's')
}

/**
 * The default prefix for `userfile:///…`: `defaultdb.public.userfiles_<user>`. For a user name that
 * is not a bare identifier CockroachDB quotes the prefix and appends the suffix after the quote,
 * `"userfiles_ci-bot"_upload_files`, a syntax error (cockroach issues #99971, #112420, open), which
 * reaches the client wrapped by the file table's creation.
 */
export function defaultUserfilePrefix(user: string): string {
  if (!/^[a-z_][a-z0-9_$]*$/.test(user)) {
    // The issues' transcripts (reading Q57); their DETAIL (`source SQL: CREATE TABLE …`) is left out.
    const error = syntaxError('_upload_files')
    throw new CrdbError(
      `failed to create file table to store uploaded file names: create-file-table: ${error.message}`,
      error.code,
      undefined,
      'try \\h CREATE TABLE'
    )
  }
  return `defaultdb.public.userfiles_${user}`
}

/** A deterministic UUID for a stored file, so runs are reproducible. */
function fileId(prefix: string, filename: string, version: number): string {
  const hex = createHash('sha256').update(`${prefix}\0${filename}\0${version}`).digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

function userfileStorage(cluster: Cluster, uri: string, url: URL, user: string): Storage {
  const base = decodeURIComponent(url.pathname)
  if (goClean(base) !== base) {
    throw new CrdbError(
      `connect to external storage: path ${base} changes after normalization to ${goClean(base)}. userfile upload does not permit such path constructs`
    )
  }
  const prefix = url.host === '' ? defaultUserfilePrefix(user) : url.host
  // NewFileToTableSystem creates the two tables on first use, listing included.
  let tables = cluster.userfiles.get(prefix)
  if (!tables) {
    tables = { prefix, files: [], payload: [] }
    cluster.userfiles.set(prefix, tables)
  }
  const store: UserfileTables = tables
  const stored = (name: string): string => path.join(base, name)
  return {
    uri,
    list: () =>
      store.files
        .map(f => f.filename)
        .filter(name => likePrefix(base).test(name))
        .sort()
        .map(name => name.slice(base.length)),
    read(name) {
      const row = store.files.find(f => f.filename === stored(name))
      if (!row) return undefined
      const chunks = store.payload.filter(p => p.fileId === row.fileId).sort((a, b) => a.byteOffset - b.byteOffset)
      return Buffer.concat(chunks.map(c => c.payload))
    },
    write(name, bytes) {
      const filename = stored(name)
      const previous = store.files.find(f => f.filename === filename)
      if (previous) {
        // Writing an existing file deletes it first (BACKUP overwrites).
        store.files = store.files.filter(f => f !== previous)
        store.payload = store.payload.filter(p => p.fileId !== previous.fileId)
      }
      const id = fileId(prefix, filename, store.files.length)
      store.files.push({ filename, fileId: id, fileSize: bytes.length, username: user, uploadTime: cluster.now() })
      for (let offset = 0; offset < bytes.length; offset += USERFILE_CHUNK_BYTES) {
        store.payload.push({ fileId: id, byteOffset: offset, payload: bytes.subarray(offset, offset + USERFILE_CHUNK_BYTES) })
      }
    },
    missing(name) {
      return cluster.profile.missingFileText === 'with-path'
        ? new CrdbError(`file ${stored(name)} does not exist in the UserFileTableSystem: external_storage: file doesn't exist`)
        : new CrdbError('file does not exist: file does not exist in the UserFileTableSystem: external_storage: file does not exist')
    }
  }
}

function objectStorage(cluster: Cluster, uri: string, url: URL): Storage {
  const root = `${url.protocol}//${url.host}`
  let objects = cluster.objectStores.get(root)
  if (!objects) {
    objects = new Map()
    cluster.objectStores.set(root, objects)
  }
  const store = objects
  // Object keys have no leading slash; listing trims the collection's prefix like userfile does.
  const base = decodeURIComponent(url.pathname).replace(/^\/+/, '')
  const key = (name: string): string => path.join(base, name).replace(/^\/+/, '')
  return {
    uri,
    list: () =>
      [...store.keys()]
        .filter(k => k.startsWith(base))
        .sort()
        .map(k => k.slice(base.length)),
    read: name => store.get(key(name)),
    write: (name, bytes) => void store.set(key(name), bytes),
    missing: () => new CrdbError("external_storage: file doesn't exist")
  }
}

export function openStorage(cluster: Cluster, uri: string, user: string): Storage {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    // Reported without the URI itself, which may carry credentials.
    throw new CrdbError('failed to parse external storage URI: invalid URI')
  }
  if (url.protocol === 'userfile:') return userfileStorage(cluster, uri, url, user)
  return objectStorage(cluster, uri, url)
}
