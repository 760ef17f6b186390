/**
 * Reads every input once, validates it and returns one typed object. Nothing after this reads
 * `core.getInput`. Every error names the input and what it accepts.
 */
import * as core from '@actions/core'
import * as log from './log.js'
import { parseAsOfSystemTime, type AsOfSystemTime } from './as-of-system-time.js'
import { isUserfile, scheme, validateCollection } from './collection.js'
import { parseConnectionString, type ConnectionSettings } from './connection-string.js'
import { DEFAULT_AS_OF_SYSTEM_TIME, DEFAULT_CONNECTION_STRING, DEFAULT_MAX_CLOCK_OFFSET_SECONDS, Inputs } from './constants.js'
import { InputError } from './errors.js'
import { secretsIn } from './secrets.js'
import { readPem, type TlsMaterial } from './tls.js'
import { parseDatabases, parseTables, type BackupTarget } from './targets.js'

/** The inputs the backup action and the restore companion share, spelled the same in both. */
export interface SharedInputs {
  connection: ConnectionSettings
  target: BackupTarget
  /** As written, `$user` not yet resolved; undefined means the default userfile collection. */
  collection: string | undefined
  encryptionPassphrase: string | undefined
  waitTimeoutMs: number
  timeoutMs: number
  container: string | undefined
}

export interface ActionInputs extends SharedInputs {
  asOf: AsOfSystemTime | undefined
  /** The cluster's `--max-offset`: how far a write's timestamp may be ahead of the clock the step reads. */
  maxClockOffsetMs: number
  subdirectory: string | undefined
  incremental: boolean
  revisionHistory: boolean
  /** Where to copy the backup's files; only for userfile collections. */
  downloadPath: string | undefined
  /** How many full backups (with their incrementals) to keep; undefined keeps everything. */
  keepBackups: number | undefined
  /** Restore the new backup into scratch databases and compare row counts. */
  verifyRestore: boolean
}

/** An input's value, or undefined when the runner did not set it at all (not even to ''). */
export type Read = (name: string) => string | undefined

export const readInput: Read = name =>
  process.env[`INPUT_${name.replaceAll(' ', '_').toUpperCase()}`] === undefined ? undefined : core.getInput(name)

const TRUE = ['true', 'True', 'TRUE']
const FALSE = ['false', 'False', 'FALSE']

export function parseBoolean(name: string, value: string, fallback: boolean): boolean {
  const text = value.trim()
  if (text === '') return fallback
  if (TRUE.includes(text)) return true
  if (FALSE.includes(text)) return false
  throw new InputError(name, `${JSON.stringify(text)} is not a boolean: use true or false.`)
}

const MAX_SECONDS = 7 * 24 * 3600

export function parseSeconds(name: string, value: string, fallback: number, allowZero: boolean): number {
  const text = value.trim()
  if (text === '') return fallback * 1000
  if (!/^\d+(\.\d+)?$/.test(text)) {
    throw new InputError(name, `${JSON.stringify(text)} is not a number of seconds (for example 60).`)
  }
  const seconds = Number(text)
  if ((!allowZero && seconds === 0) || seconds > MAX_SECONDS) {
    throw new InputError(name, `${text} is out of range: use ${allowZero ? '0' : 'more than 0'} to ${MAX_SECONDS} seconds.`)
  }
  return Math.ceil(seconds * 1000) // never rounds a positive timeout down to 0 ms
}

const NO_CLUSTER_BACKUP =
  'Set exactly one of `database` or `tables`. Cluster backups are not offered: userfile data lives in ' +
  'the defaultdb database, and a full cluster restore only runs on a cluster with no databases, so a ' +
  'cluster backup in userfile could never be restored.'

export function parseTarget(database: string, tables: string): BackupTarget {
  const hasDatabase = database.trim() !== ''
  const hasTables = tables.trim() !== ''
  if (hasDatabase && hasTables) {
    throw new InputError([Inputs.Database, Inputs.Tables], 'give one or the other, not both.')
  }
  if (hasDatabase) {
    const databases = parseDatabases(database)
    if (databases.length > 0) return { kind: 'databases', databases }
  }
  if (hasTables) {
    const list = parseTables(tables)
    if (list.length > 0) return { kind: 'tables', tables: list }
  }
  throw new InputError([Inputs.Database, Inputs.Tables], NO_CLUSTER_BACKUP)
}

export function optional(value: string): string | undefined {
  const text = value.trim()
  return text === '' ? undefined : text
}

function parseSubdirectory(value: string): string | undefined {
  const text = optional(value)
  if (text === undefined) return undefined
  if (text.includes('\0')) throw new InputError(Inputs.Subdirectory, 'cannot contain a NUL character.')
  if (text.toUpperCase() === 'LATEST') {
    throw new InputError(Inputs.Subdirectory, 'to append to the latest backup, set incremental: true instead.')
  }
  return text
}

const CONTAINER = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/

function parseContainer(value: string): string | undefined {
  const text = optional(value)
  if (text !== undefined && !CONTAINER.test(text)) {
    throw new InputError(Inputs.Container, `${JSON.stringify(text)} is not a Docker container name or id.`)
  }
  return text
}

/** Trimmed, as every input is (the runner's core.getInput trims too); blank means no encryption. */
function parsePassphrase(value: string): string | undefined {
  const text = value.trim()
  if (text === '') return undefined
  if (text.includes('\0')) throw new InputError(Inputs.EncryptionPassphrase, 'cannot contain a NUL character.')
  return text
}

/** The TLS inputs take the place of the URL's sslrootcert / sslcert / sslkey; giving both is ambiguous. */
function tlsFromInputs(read: (name: string) => string, fromUrl: TlsMaterial): TlsMaterial {
  const pick = (input: Inputs, parameter: string, urlValue: string | undefined): string | undefined => {
    const value = readPem(input, read(input))
    if (value !== undefined && urlValue !== undefined) {
      throw new InputError(input, `give it either here or as ${parameter} in connection-string, not both.`)
    }
    return value ?? urlValue
  }
  const tls = {
    ca: pick(Inputs.CaCert, 'sslrootcert', fromUrl.ca),
    cert: pick(Inputs.ClientCert, 'sslcert', fromUrl.cert),
    key: pick(Inputs.ClientKey, 'sslkey', fromUrl.key)
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new InputError([Inputs.ClientCert, Inputs.ClientKey], 'a client certificate needs its key, and a key its certificate.')
  }
  return tls
}

/** Masks every secret among the raw inputs first, so no later message can reveal one. */
export function readSharedInputs(readRaw: Read, mask: (secret: string) => void): SharedInputs {
  const read = (name: string): string => readRaw(name) ?? ''
  secretsIn({
    connectionString: read(Inputs.ConnectionString),
    encryptionPassphrase: read(Inputs.EncryptionPassphrase),
    collection: read(Inputs.Collection),
    pems: [read(Inputs.CaCert), read(Inputs.ClientCert), read(Inputs.ClientKey)]
  }).forEach(mask)
  const collection = optional(read(Inputs.Collection))
  const connection = parseConnectionString(optional(read(Inputs.ConnectionString)) ?? DEFAULT_CONNECTION_STRING)
  return {
    connection: { ...connection, tls: tlsFromInputs(read, connection.tls) },
    target: parseTarget(read(Inputs.Database), read(Inputs.Tables)),
    collection: collection === undefined ? undefined : validateCollection(collection),
    encryptionPassphrase: parsePassphrase(read(Inputs.EncryptionPassphrase)),
    waitTimeoutMs: parseSeconds(Inputs.WaitTimeout, read(Inputs.WaitTimeout), 60, true),
    timeoutMs: parseSeconds(Inputs.Timeout, read(Inputs.Timeout), 3600, false),
    container: parseContainer(read(Inputs.Container))
  }
}

export function getInputs(readRaw: Read = readInput, mask: (secret: string) => void = core.setSecret): ActionInputs {
  const read = (name: string): string => readRaw(name) ?? ''
  const shared = readSharedInputs(readRaw, mask)
  return {
    ...shared,
    // Unset means the default; set to '' means "no AS OF SYSTEM TIME" (main warns about it).
    asOf: parseAsOfSystemTime(readRaw(Inputs.AsOfSystemTime) ?? DEFAULT_AS_OF_SYSTEM_TIME),
    maxClockOffsetMs: parseSeconds(Inputs.MaxClockOffset, read(Inputs.MaxClockOffset), DEFAULT_MAX_CLOCK_OFFSET_SECONDS, true),
    subdirectory: parseSubdirectory(read(Inputs.Subdirectory)),
    incremental: parseBoolean(Inputs.Incremental, read(Inputs.Incremental), false),
    revisionHistory: parseBoolean(Inputs.RevisionHistory, read(Inputs.RevisionHistory), false),
    downloadPath: parseDownloadPath(read(Inputs.DownloadPath), shared.collection),
    keepBackups: parseKeepBackups(read(Inputs.KeepBackups), shared.collection),
    verifyRestore: parseBoolean(Inputs.VerifyRestore, read(Inputs.VerifyRestore), false)
  }
}

const MAX_KEEP_BACKUPS = 10_000

function parseKeepBackups(value: string, collection: string | undefined): number | undefined {
  const text = optional(value)
  if (text === undefined) return undefined
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_KEEP_BACKUPS) {
    throw new InputError(
      Inputs.KeepBackups,
      `${JSON.stringify(text)} is not a whole number from 1 to ${MAX_KEEP_BACKUPS} (empty keeps every backup).`
    )
  }
  if (collection !== undefined && !isUserfile(collection)) {
    throw new InputError(
      Inputs.KeepBackups,
      `is for userfile:// collections only; for a ${scheme(collection)}:// collection, bucket lifecycle rules (object expiry) are the right tool.`
    )
  }
  return Number(text)
}

function parseDownloadPath(value: string, collection: string | undefined): string | undefined {
  const path = optional(value)
  if (path === undefined) return undefined
  if (path.includes('\0')) throw new InputError(Inputs.DownloadPath, 'cannot contain a NUL character.')
  if (collection !== undefined && !isUserfile(collection)) {
    throw new InputError(
      Inputs.DownloadPath,
      `is for userfile:// collections only; a ${scheme(collection)}:// collection is already outside the cluster.`
    )
  }
  return path
}

/** Inputs that are allowed but probably not what the user meant. */
export function warnAboutInputs(inputs: SharedInputs & { asOf?: AsOfSystemTime }, warn: (message: string) => void = log.warning): void {
  if ('asOf' in inputs && inputs.asOf === undefined) {
    warn(
      'as-of-system-time is empty: the backup reads the present, which competes with foreground traffic. CockroachDB recommends at least -10s.'
    )
  }
  if (inputs.connection.tls.ca !== undefined && ['allow', 'prefer'].includes(inputs.connection.sslMode)) {
    warn(
      `A CA certificate is given, but sslmode=${inputs.connection.sslMode} does not check the server against it: use sslmode=verify-full.`
    )
  }
}

/**
 * Downloaded files end up wherever the workflow puts them, usually an artifact, which on a public
 * repository any signed-in user can download: say so when they are not encrypted.
 */
export function noticeAboutDownload(inputs: ActionInputs, notice: (message: string) => void = log.notice): void {
  if (inputs.downloadPath === undefined || inputs.encryptionPassphrase !== undefined) return
  notice(
    `${Inputs.DownloadPath} is set without ${Inputs.EncryptionPassphrase}: the downloaded backup files are not encrypted, and anyone who can read them (an artifact of a public repository: any signed-in GitHub user) can read the data. Set ${Inputs.EncryptionPassphrase} from a secret.`
  )
}
