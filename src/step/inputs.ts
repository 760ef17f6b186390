/**
 * Reads every input both actions share once, validates it and returns one typed object. Nothing after this reads
 * `core.getInput`. Every error names the input and what it accepts.
 */
import * as core from '@actions/core'
import * as log from '../base/log.js'
import type { AsOfSystemTime } from '../cluster/as-of-system-time.js'
import { parseCollection, type Collection } from '../cluster/collection.js'
import { parseConnectionString, type ConnectionSettings } from '../cluster/connection-string.js'
import { DEFAULT_CONNECTION_STRING, DEFAULT_TIMEOUT_SECONDS, DEFAULT_WAIT_TIMEOUT_SECONDS, Inputs } from '../base/constants.js'
import { asInputError, InputError } from '../base/errors.js'
import { secretsIn } from './input-secrets.js'
import { readPem, type TlsMaterial } from '../cluster/tls.js'
import { parseDatabases, parseTables, type BackupTarget } from '../cluster/targets.js'

/** The inputs the backup action and the restore companion share, spelled the same in both. */
export interface SharedInputs {
  connection: ConnectionSettings
  target: BackupTarget
  collection: Collection
  encryptionPassphrase: string | undefined
  waitTimeoutMs: number
  timeoutMs: number
  container: string | undefined
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

const CONTAINER = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/

function parseContainer(value: string): string | undefined {
  const text = optional(value)
  if (text !== undefined && !CONTAINER.test(text)) {
    throw new InputError(Inputs.Container, `${JSON.stringify(text)} is not a Docker container name or id.`)
  }
  return text
}

/** An input passed on as text (SQL or a path): trimmed, undefined when blank, never a NUL. */
export function optionalText(input: string, value: string): string | undefined {
  const text = optional(value)
  if (text?.includes('\0')) throw new InputError(input, 'cannot contain a NUL character.')
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
  const connection = parseConnectionString(optional(read(Inputs.ConnectionString)) ?? DEFAULT_CONNECTION_STRING)
  const tls = tlsFromInputs(read, connection.tls)
  const target = parseTarget(read(Inputs.Database), read(Inputs.Tables))
  return {
    connection: { ...connection, tls },
    target,
    collection: parseCollection(read(Inputs.Collection), target),
    encryptionPassphrase: optionalText(Inputs.EncryptionPassphrase, read(Inputs.EncryptionPassphrase)),
    waitTimeoutMs: parseSeconds(Inputs.WaitTimeout, read(Inputs.WaitTimeout), DEFAULT_WAIT_TIMEOUT_SECONDS, true),
    timeoutMs: parseSeconds(Inputs.Timeout, read(Inputs.Timeout), DEFAULT_TIMEOUT_SECONDS, false),
    container: parseContainer(read(Inputs.Container))
  }
}

/** A path on the runner that an input names, checked while the inputs are read: what is wrong with it is that input's error. */
export async function checkRunnerPath(input: string, path: string | undefined, check: (path: string) => Promise<unknown>): Promise<void> {
  if (path === undefined) return
  await check(path).catch((error: unknown) => {
    throw asInputError(error, input, path)
  })
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
