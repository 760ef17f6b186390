/** SHOW BACKUPS and SHOW BACKUP, each read the same way by every part that needs it. */
import { pathKey, type ShowBackupRow } from './backup-listing.js'
import type { ResolvedCollection } from './collection.js'
import type { Session } from './connection.js'
import { ActionError } from '../base/errors.js'
import * as sql from './sql/index.js'

/** The backups SHOW BACKUPS lists in a collection, by path (the action turns use_backups_with_ids off on v26.2+). */
export async function listBackups(session: Session, collection: ResolvedCollection, doing: string): Promise<string[]> {
  const rows = await session.query<{ path?: string; id?: string }>(sql.showBackups(collection.collection), [], doing)
  return rows.map(row => {
    if (typeof row.path === 'string') return row.path
    throw new ActionError(
      `SHOW BACKUPS IN ${collection.collectionForDisplay} listed backups by id, not by path: the session variable use_backups_with_ids is on.`,
      `The action turns it off on v26.2+; if the server's version could not be read, run ALTER ROLE ALL SET use_backups_with_ids = false.`
    )
  })
}

/** A backup folder in a collection, and the passphrase that opens it. */
export interface BackupAddress extends ResolvedCollection {
  encryptionPassphrase: string | undefined
}

/**
 * SHOW BACKUP reads every layer's manifest (and with check_files every file): it may take as long as
 * the job, so it gets the job's timeout. The path always goes with its leading slash: v25.4+ can
 * refuse a slashless one (cockroach issue #172292).
 */
export async function showBackup(
  session: Session,
  backup: BackupAddress,
  path: string,
  options: { checkFiles: boolean; timeoutMs: number }
): Promise<ShowBackupRow[]> {
  const statement = sql.showBackup(path === 'LATEST' ? path : pathKey(path), backup.collection, {
    checkFiles: options.checkFiles,
    encryptionPassphrase: backup.encryptionPassphrase
  })
  return session.query<ShowBackupRow>(statement, [], `reading backup ${path} in ${backup.collectionForDisplay}`, options.timeoutMs)
}
