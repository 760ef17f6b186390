/**
 * The backup collection URI: read once from its input (its scheme, its default), and `$user`
 * resolved for the session user. The URI itself is passed to CockroachDB as written (quoted as a
 * literal); its credentials stay out of logs and outputs (uri-secrets.ts).
 */
import { Inputs } from '../base/constants.js'
import { InputError } from '../base/errors.js'
import { firstDatabase, type BackupTarget } from './targets.js'
import { redactCollection } from '../base/uri-secrets.js'

/** The collection input, read once. */
export interface Collection {
  /** As written, or the default userfile collection named after the first database; `$user` not yet resolved. */
  uri: string
  /** Lower-case: userfile, nodelocal, s3, gs, azure, … */
  scheme: string
}

export const USER_PLACEHOLDER = '$user'

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i

function validateCollection(raw: string): string {
  const value = raw.trim()
  if (value.includes('\0')) throw new InputError(Inputs.Collection, 'cannot contain a NUL character.')
  if (!SCHEME.test(value)) {
    throw new InputError(
      Inputs.Collection,
      'must be a storage URI such as userfile://defaultdb.public.userfiles_$user/bank-backup, ' +
        'nodelocal://1/backups, s3://bucket/path?AUTH=implicit, gs://…, or azure://….'
    )
  }
  if (scheme(value) === 'userfile' && /^[a-z]+:\/\/[^/?#]*@/i.test(value)) {
    // Never echoed: the part before @ may be a password. CockroachDB takes only the URL's host as the
    // table prefix (pkg/cloud/userfile parseUserfileURL: uri.Host), so user info there means nothing.
    throw new InputError(
      Inputs.Collection,
      'a userfile:// URI takes no user name or password (userfile storage belongs to the session user, and CockroachDB ignores them), so remove the part before @.'
    )
  }
  return value
}

function scheme(collection: string): string {
  return SCHEME.exec(collection)?.[1]?.toLowerCase() ?? ''
}

/** The collection input (blank means the default) as a value that knows its scheme. */
export function parseCollection(raw: string | undefined, target: BackupTarget): Collection {
  const uri = raw === undefined || raw.trim() === '' ? defaultCollection(firstDatabase(target)) : validateCollection(raw)
  return { uri, scheme: scheme(uri) }
}

export function defaultCollection(database: string): string {
  return `userfile://defaultdb.public.userfiles_${USER_PLACEHOLDER}/${encodeURIComponent(database)}-backup`
}

const DEFAULT_USERFILE_HOST = `userfile://defaultdb.public.userfiles_${USER_PLACEHOLDER}/`
/** What `cockroach userfile` uses for a user whose name is not a bare identifier (pkg/cli/userfile.go). */
const HEX_USERFILE_PREFIX = 'defaultdb.public.userfilesx_'

/**
 * lexbase.IsBareIdentifier on a normalized (lower-case) user name, restricted to ASCII: CockroachDB
 * also counts a lower-case non-ASCII name as bare, but such a name cannot stand in a URI's host
 * unescaped, so the action gives it the hex prefix too (docs/cockroachdb-facts.md §18).
 */
export function isBareIdentifier(name: string): boolean {
  return /^[a-z_][a-z0-9_$]*$/.test(name)
}

/**
 * Replaces `$user` with the session user, as the docs mean it (CockroachDB does not expand it).
 * For the default userfile space, a user name that is not a bare identifier (`ci-bot`,
 * `deploy.user`) gets the prefix `cockroach userfile` gives it, `defaultdb.public.userfilesx_<hex
 * of the name>` (pkg/cli/userfile.go getDefaultQualifiedTableName). The empty-host form is no way
 * out: CockroachDB builds `"userfiles_ci-bot"_upload_files` from it, a syntax error (cockroach
 * issues #99971, #112420).
 */
export function resolveUser(collection: string, user: string): string {
  if (!collection.includes(USER_PLACEHOLDER)) return collection
  if (collection.startsWith(DEFAULT_USERFILE_HOST) && !isBareIdentifier(user)) {
    const hex = Buffer.from(user, 'utf8').toString('hex')
    const rest = collection.slice(DEFAULT_USERFILE_HOST.length).replaceAll(USER_PLACEHOLDER, encodeURIComponent(user))
    return `userfile://${HEX_USERFILE_PREFIX}${hex}/${rest}`
  }
  return collection.replaceAll(USER_PLACEHOLDER, isBareIdentifier(user) ? user : encodeURIComponent(user))
}

/** A collection as sent to CockroachDB (`$user` resolved), and as shown in messages (credentials redacted). */
export interface ResolvedCollection {
  collection: string
  collectionForDisplay: string
}

/** The collection with `$user` resolved for the session user. */
export function resolveCollection(collection: Collection, user: string): ResolvedCollection {
  const uri = resolveUser(collection.uri, user)
  return { collection: uri, collectionForDisplay: redactCollection(uri) }
}
