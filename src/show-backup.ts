/** SHOW BACKUP, read the same way by the backup's check, its verification and the restore. */
import { pathKey, type ShowBackupRow } from './backup-listing.js'
import type { ResolvedCollection } from './collection.js'
import type { Session } from './connection.js'
import * as sql from './sql.js'

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
