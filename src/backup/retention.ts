/**
 * keep-backups: once a backup succeeded, removes the older full backups of a userfile collection,
 * each with its incremental layers and its backup-index directory (whatever its version named it),
 * so only the newest ones remain.
 * Each backup goes in one transaction: no orphan chunks, no listed-but-empty backup.
 */
import { pathKey, samePath } from '../cluster/backup-listing.js'
import type { ResolvedCollection } from '../cluster/collection.js'
import type { Session } from '../cluster/connection.js'
import { ActionError, CancelledError, errorMessage } from '../base/errors.js'
import * as sql from '../cluster/sql/index.js'
import { listBackups } from '../cluster/show-backup.js'
import { backupPrefixes } from '../storage/backup-folder.js'
import { backupIndexDirectories } from '../storage/backup-index.js'
import { listStoredFiles } from '../storage/userfile.js'
import { likePrefix, type UserfileLocation } from '../storage/userfile-location.js'

/** A folder BACKUP … INTO '<collection>' chose itself, named after its end time (backupbase.DateBasedIntoFolderName). */
const DATE_BASED_FOLDER = /^\/?\d{4}\/\d{2}\/\d{2}-\d{6}\.\d{2}$/

export interface RetentionPlan {
  /** Date-based full backups that stay, oldest first. */
  kept: string[]
  /** Date-based full backups to delete, oldest first. */
  removed: string[]
  /** Explicit subdirectory backups: never counted, never deleted. */
  subdirectories: string[]
}

/**
 * Which backups go. Date-based folder names sort as their end times do (fixed-width UTC digits),
 * so the newest `keep` names stay, and so does the backup this step made, wherever it sorts.
 * Explicit subdirectories (`INTO 'release-42' IN …`) carry no time and were named on purpose by
 * someone: they are left alone.
 */
export function planRetention(listed: string[], keep: number, justMade: string): RetentionPlan {
  if (!Number.isInteger(keep) || keep < 1) throw new Error('keep must be a whole number of at least 1')
  const unique = [...new Map(listed.map(path => [pathKey(path), path])).values()]
  const dated = unique.filter(path => DATE_BASED_FOLDER.test(path)).sort((a, b) => (pathKey(a) < pathKey(b) ? -1 : 1))
  const newest = dated.slice(-keep)
  const removed = dated.filter(path => !newest.includes(path) && !samePath(path, justMade))
  return {
    kept: dated.filter(path => !removed.includes(path)),
    removed,
    subdirectories: unique.filter(path => !DATE_BASED_FOLDER.test(path))
  }
}

/** The folder and incrementals of one backup; its index directories are found by listing (backupIndexDirectories). */
export function backupFilePrefixes(location: UserfileLocation, backupPath: string): string[] {
  return backupPrefixes(location, backupPath).map(prefix => prefix.stored)
}

/** A COMMIT that failed may have been applied all the same (its answer lost): how many files it was deleting. */
class UncertainCommit extends Error {
  constructor(
    readonly files: number,
    /** Where those files were, to look again. */
    readonly prefixes: string[],
    options: { cause: unknown }
  ) {
    super('COMMIT failed', options)
  }
}

async function storedFiles(session: Session, location: UserfileLocation, prefixes: string[]): Promise<number> {
  let files = 0
  for (const prefix of prefixes) files += (await listStoredFiles(session, location, prefix)).length
  return files
}

/**
 * Deletes one full backup's files in one transaction; returns how many files it held (0: nothing
 * was there, nothing was deleted). A failed COMMIT is an UncertainCommit: its outcome is unknown.
 */
export async function deleteBackup(session: Session, location: UserfileLocation, backupPath: string): Promise<number> {
  const doing = `deleting backup ${backupPath} from ${location.tables.prefix}`
  await session.query('BEGIN', [], doing)
  let files = 0
  let committing = false
  let prefixes: string[] = []
  try {
    const index = await backupIndexDirectories(session, location, backupPath, { legacyRoot: true })
    prefixes = [...backupFilePrefixes(location, backupPath), ...index.map(directory => directory.stored)]
    for (const prefix of prefixes) {
      const stored = await listStoredFiles(session, location, prefix)
      // The escaped LIKE already guarantees this; a name outside the prefix would be a bug worth stopping for.
      const stray = stored.find(file => !file.filename.startsWith(prefix))
      if (stray !== undefined) throw new ActionError(`Refusing to delete ${JSON.stringify(stray.filename)}: it is not under ${prefix}.`)
      files += stored.length
      if (stored.length === 0) continue
      await session.query(sql.deleteUserfilePayloadLike(location.tables.payload, location.tables.files), [likePrefix(prefix)], doing)
      await session.query(sql.deleteUserfilesLike(location.tables.files), [likePrefix(prefix)], doing)
    }
    committing = true
    await session.query(files === 0 ? 'ROLLBACK' : 'COMMIT', [], doing)
    return files
  } catch (error) {
    // Best effort: the failure itself is what the user needs to see; a transaction left open is
    // rolled back by the server when the connection goes.
    await session.query('ROLLBACK', [], 'rolling back').catch(() => undefined)
    if (committing && files > 0) throw new UncertainCommit(files, prefixes, { cause: error })
    throw error
  }
}

const RECHECK_TIMEOUT_MS = 10_000

/** What became of a backup whose COMMIT failed, read on a new connection (the old one may be gone): undefined when it is gone. */
async function afterUncertainCommit(session: Session, location: UserfileLocation, commit: UncertainCommit): Promise<string | undefined> {
  const { files } = commit
  let remaining: number
  try {
    const fresh = await session.fresh(RECHECK_TIMEOUT_MS)
    try {
      remaining = await storedFiles(fresh, location, commit.prefixes)
    } finally {
      await fresh.close()
    }
  } catch (error) {
    return `whether it was removed is unknown: checking on a new connection failed too (${errorMessage(error)})`
  }
  if (remaining === 0) return undefined
  if (remaining === files) return `a new connection still finds all ${files} of its files`
  return `a new connection finds ${remaining} of its ${files} files left`
}

/**
 * keep-backups stopped: `deleted` lists what it removed (with the backup it stopped at when its
 * COMMIT was applied after all), `stopped` what became of the rest, for the summary.
 */
export class RetentionError extends ActionError {
  constructor(
    message: string,
    readonly deleted: string[],
    readonly stopped: string,
    options: { cause: unknown }
  ) {
    super(message, undefined, options)
  }
}

export interface RetentionResult {
  plan: RetentionPlan
  /** The folders deleted, as SHOW BACKUPS listed them. */
  deleted: string[]
}

/** Lists the collection, then deletes what planRetention says, oldest first. */
export async function applyRetention(
  session: Session,
  collection: ResolvedCollection & { location: UserfileLocation },
  keep: number,
  justMade: string,
  log: (message: string) => void
): Promise<RetentionResult> {
  const listed = await listBackups(session, collection, `listing backups in ${collection.collectionForDisplay} before deleting old ones`)
  const plan = planRetention(listed, keep, justMade)
  const deleted: string[] = []
  const notAttempted = (path: string): string => {
    const later = plan.removed.slice(plan.removed.indexOf(path) + 1)
    return later.length === 0 ? '' : `; not attempted: ${later.join(', ')}`
  }
  const fail = (path: string, what: string, error: unknown): RetentionError => {
    const before = deleted.length === 0 ? 'no backup was deleted' : `it had deleted ${deleted.join(', ')}`
    const stopped = `could not delete ${path} (${what})${notAttempted(path)}`
    return new RetentionError(
      `keep-backups could not delete backup ${path} (${what}); ${before}:\n${errorMessage(error)}`,
      deleted,
      stopped,
      {
        cause: error
      }
    )
  }
  for (const path of plan.removed) {
    let files: number
    try {
      files = await deleteBackup(session, collection.location, path)
    } catch (error) {
      if (!(error instanceof UncertainCommit)) throw fail(path, 'nothing of it was removed', error)
      // After a cancel there is no time to look: the runner's SIGTERM is seconds away.
      if (error.cause instanceof CancelledError)
        throw fail(path, 'cancelled during its COMMIT, so whether it was removed is unknown', error.cause)
      const outcome = await afterUncertainCommit(session, collection.location, error)
      if (outcome !== undefined) throw fail(path, `its COMMIT failed, and ${outcome}`, error.cause)
      deleted.push(path)
      log(`Deleted backup ${path} (${error.files} files): its COMMIT failed, but a new connection finds none of its files.`)
      const rest = plan.removed.slice(plan.removed.indexOf(path) + 1)
      if (rest.length === 0) continue
      throw new RetentionError(
        `keep-backups deleted ${deleted.join(', ')}, then stopped as its connection failed, so ${rest.join(', ')} ${rest.length === 1 ? 'was' : 'were'} not deleted:\n${errorMessage(error.cause)}`,
        deleted,
        `stopped as its connection failed${notAttempted(path)}`,
        { cause: error.cause }
      )
    }
    if (files === 0) {
      log(`Backup ${path} is listed by SHOW BACKUPS, but ${collection.location.tables.prefix} holds no files of it: nothing to delete.`)
      continue
    }
    deleted.push(path)
    log(`Deleted backup ${path} (${files} files), keeping the newest ${keep}.`)
  }
  if (plan.removed.length === 0) log(`keep-backups: ${plan.kept.length} backup(s) in ${collection.collectionForDisplay}, none to delete.`)
  return { plan, deleted }
}
