/**
 * keep-backups: once a backup succeeded, removes the older full backups of a userfile collection,
 * each with its incremental layers and its backup-index directory (whatever its version named it),
 * so only the newest ones remain.
 * Each backup goes in one transaction: no orphan chunks, no listed-but-empty backup.
 */
import { pathKey, samePath } from '../backup-listing.js'
import type { ResolvedCollection } from '../collection.js'
import type { Session } from '../connection.js'
import { ActionError, errorMessage } from '../errors.js'
import * as sql from '../sql.js'
import { listBackups } from '../show-backup.js'
import { backupPrefixes } from '../backup-folder.js'
import { backupIndexDirectories } from '../backup-index.js'
import { listStoredFiles } from '../userfile.js'
import { likePrefix, type UserfileLocation } from '../userfile-location.js'

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

/** Deletes one full backup's files in one transaction; returns how many files it held. */
export async function deleteBackup(session: Session, location: UserfileLocation, backupPath: string): Promise<number> {
  const doing = `deleting backup ${backupPath} from ${location.tables.prefix}`
  await session.query('BEGIN', [], doing)
  try {
    const index = await backupIndexDirectories(session, location, backupPath, { legacyRoot: true })
    const prefixes = [...backupFilePrefixes(location, backupPath), ...index.map(directory => directory.stored)]
    let files = 0
    for (const prefix of prefixes) {
      const stored = await listStoredFiles(session, location, prefix)
      // The escaped LIKE already guarantees this; a name outside the prefix would be a bug worth stopping for.
      const stray = stored.find(file => !file.filename.startsWith(prefix))
      if (stray !== undefined) throw new ActionError(`Refusing to delete ${JSON.stringify(stray.filename)}: it is not under ${prefix}.`)
      files += stored.length
      await session.query(sql.deleteUserfilePayloadLike(location.tables.payload, location.tables.files), [likePrefix(prefix)], doing)
      await session.query(sql.deleteUserfilesLike(location.tables.files), [likePrefix(prefix)], doing)
    }
    await session.query('COMMIT', [], doing)
    return files
  } catch (error) {
    // Best effort: the failure itself is what the user needs to see, and an unanswered COMMIT
    // leaves the transaction to the server, which rolls it back when the connection goes.
    await session.query('ROLLBACK', [], 'rolling back').catch(() => undefined)
    throw error
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
  for (const path of plan.removed) {
    try {
      const files = await deleteBackup(session, collection.location, path)
      deleted.push(path)
      log(`Deleted backup ${path} (${files} files), keeping the newest ${keep}.`)
    } catch (error) {
      const before = deleted.length === 0 ? 'No backup was deleted.' : `Already deleted: ${deleted.join(', ')}.`
      throw new ActionError(`keep-backups: could not delete backup ${path} (nothing of it was removed). ${before}\n${errorMessage(error)}`)
    }
  }
  if (plan.removed.length === 0) log(`keep-backups: ${plan.kept.length} backup(s) in ${collection.collectionForDisplay}, none to delete.`)
  return { plan, deleted }
}
