/**
 * The backup collection URI: its default, `$user` resolution, and keeping its credentials out of
 * logs and outputs. The URI itself is passed to CockroachDB as written (quoted as a literal).
 */
import { Inputs } from './constants.js'
import { userInfoPassword } from './connection-string.js'
import { InputError } from './errors.js'

export const USER_PLACEHOLDER = '$user'

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i
/** Query parameters that carry credentials in CockroachDB's cloud storage URIs (and their kin). */
const SECRET_PARAMETER = /(SECRET|TOKEN|PASSWORD|CREDENTIALS|ACCOUNT_KEY|PRIVATE_KEY|^SIG$)/i

export function validateCollection(raw: string): string {
  const value = raw.trim()
  if (value.includes('\0')) throw new InputError(Inputs.Collection, 'cannot contain a NUL character.')
  if (!SCHEME.test(value)) {
    throw new InputError(
      Inputs.Collection,
      'must be a storage URI such as userfile://defaultdb.public.userfiles_$user/bank-backup, ' +
        'nodelocal://1/backups, s3://bucket/path?AUTH=implicit, gs://…, or azure://….'
    )
  }
  return value
}

export function scheme(collection: string): string {
  return SCHEME.exec(collection)?.[1]?.toLowerCase() ?? ''
}

export function isUserfile(collection: string): boolean {
  return scheme(collection) === 'userfile'
}

export function defaultCollection(database: string): string {
  return `userfile://defaultdb.public.userfiles_${USER_PLACEHOLDER}/${encodeURIComponent(database)}-backup`
}

const DEFAULT_USERFILE_HOST = `userfile://defaultdb.public.userfiles_${USER_PLACEHOLDER}/`
/** User names that can stand unquoted inside the table prefix `userfiles_<user>`. */
const PLAIN_USER = /^[a-z0-9_]+$/

/**
 * Replaces `$user` with the session user, as the docs mean it (CockroachDB does not expand it).
 * A user name such as `ci-bot` cannot stand unquoted in a table prefix, so for the default userfile
 * space the URI falls back to the empty-host form, which CockroachDB resolves to that same space
 * (pkg/cloud/userfile/file_table_storage.go).
 */
export function resolveUser(collection: string, user: string): string {
  if (!collection.includes(USER_PLACEHOLDER)) return collection
  if (collection.startsWith(DEFAULT_USERFILE_HOST) && !PLAIN_USER.test(user)) {
    return `userfile:///${collection.slice(DEFAULT_USERFILE_HOST.length)}`.replaceAll(USER_PLACEHOLDER, encodeURIComponent(user))
  }
  return collection.replaceAll(USER_PLACEHOLDER, PLAIN_USER.test(user) ? user : encodeURIComponent(user))
}

interface UriSecrets {
  redacted: string
  secrets: string[]
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '))
  } catch {
    return text // not percent-encoded after all; the raw text is what appears in logs
  }
}

/** Splits credentials out of a storage URI: the user-info password and secret query parameters. */
export function uriSecrets(uri: string): UriSecrets {
  const secrets: string[] = []
  const remember = (value: string): void => {
    if (value === '') return
    secrets.push(value)
    const decoded = safeDecode(value)
    if (decoded !== value) secrets.push(decoded)
  }
  const passwords = userInfoPassword(uri)
  secrets.push(...passwords)
  let redacted = uri
  const raw = passwords[0]
  if (raw !== undefined) {
    const authorityStart = uri.indexOf('://') + 3
    const colon = uri.indexOf(':', authorityStart)
    redacted = `${uri.slice(0, colon + 1)}redacted${uri.slice(colon + 1 + raw.length)}`
  }
  redacted = redacted.replace(/([?&])([^=&#]+)=([^&#]*)/g, (all, sep: string, key: string, value: string) => {
    if (!SECRET_PARAMETER.test(safeDecode(key))) return all
    remember(value)
    return `${sep}${key}=redacted`
  })
  return { redacted, secrets: [...new Set(secrets)] }
}

export function redactCollection(uri: string): string {
  return uriSecrets(uri).redacted
}
