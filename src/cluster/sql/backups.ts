/** BACKUP, SHOW BACKUP(S) and RESTORE. */
import type { ExplicitAsOf } from '../as-of-system-time.js'
import type { BackupTarget } from '../targets.js'
import { asOfClause, quoteLiteral, targetList } from './quote.js'

export function showBackups(collection: string): string {
  return `SHOW BACKUPS IN ${quoteLiteral(collection)}`
}

export interface BackupStatementOptions {
  target: BackupTarget
  collection: string
  /** Where the backup goes inside the collection: a new date-based folder, LATEST, or a named one. */
  destination: { kind: 'new' } | { kind: 'latest' } | { kind: 'subdirectory'; name: string }
  asOf: ExplicitAsOf | undefined
  revisionHistory: boolean
  encryptionPassphrase: string | undefined
}

function withOptions(options: string[]): string {
  return options.length === 0 ? '' : ` WITH ${options.join(', ')}`
}

function passphraseOption(passphrase: string | undefined, redact: boolean): string[] {
  if (passphrase === undefined) return []
  return [`encryption_passphrase = ${redact ? "'redacted'" : quoteLiteral(passphrase)}`]
}

/** BACKUP … WITH detached. With `redact`, the passphrase is replaced so the text can be logged. */
export function backup(options: BackupStatementOptions, redact = false): string {
  const { target, collection, destination, asOf } = options
  const into =
    destination.kind === 'new'
      ? `INTO ${quoteLiteral(collection)}`
      : destination.kind === 'latest'
        ? `INTO LATEST IN ${quoteLiteral(collection)}`
        : `INTO ${quoteLiteral(destination.name)} IN ${quoteLiteral(collection)}`
  const asOfText = asOf === undefined ? '' : ` AS OF SYSTEM TIME ${asOfClause(asOf)}`
  const opts = ['detached']
  if (options.revisionHistory) opts.push('revision_history')
  opts.push(...passphraseOption(options.encryptionPassphrase, redact))
  return `BACKUP ${targetList(target)} ${into}${asOfText}${withOptions(opts)}`
}

export interface ShowBackupOptions {
  checkFiles: boolean
  encryptionPassphrase: string | undefined
}

export function showBackup(path: string, collection: string, options: ShowBackupOptions, redact = false): string {
  const opts = options.checkFiles ? ['check_files'] : []
  opts.push(...passphraseOption(options.encryptionPassphrase, redact))
  return `SHOW BACKUP ${quoteLiteral(path)} IN ${quoteLiteral(collection)}${withOptions(opts)}`
}

/** The statement a user runs to restore this backup (never carries the passphrase itself). */
export function restore(target: BackupTarget, path: string, collection: string, encrypted: boolean): string {
  const opts = encrypted ? ["encryption_passphrase = '<encryption-passphrase>'"] : []
  return `RESTORE ${targetList(target)} FROM ${quoteLiteral(path)} IN ${quoteLiteral(collection)}${withOptions(opts)}`
}

export interface RestoreStatementOptions {
  target: BackupTarget
  path: string
  collection: string
  /** Restore a single database under another name. */
  newDbName: string | undefined
  /** Restore tables into another database. */
  intoDb: string | undefined
  encryptionPassphrase: string | undefined
  /** RESTORE … AS OF SYSTEM TIME: a decimal HLC timestamp, sent as a literal. */
  asOf?: string
}

/** RESTORE … WITH detached. With `redact`, the passphrase is replaced so the text can be logged. */
export function restoreDetached(options: RestoreStatementOptions, redact = false): string {
  const opts = ['detached']
  if (options.newDbName !== undefined) opts.push(`new_db_name = ${quoteLiteral(options.newDbName)}`)
  if (options.intoDb !== undefined) opts.push(`into_db = ${quoteLiteral(options.intoDb)}`)
  opts.push(...passphraseOption(options.encryptionPassphrase, redact))
  const asOf = options.asOf === undefined ? '' : ` AS OF SYSTEM TIME ${quoteLiteral(options.asOf)}`
  return `RESTORE ${targetList(options.target)} FROM ${quoteLiteral(options.path)} IN ${quoteLiteral(options.collection)}${asOf}${withOptions(opts)}`
}
