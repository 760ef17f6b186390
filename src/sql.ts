/**
 * The only place SQL text is assembled. Every identifier goes through quoteIdent and every
 * string through quoteLiteral; nothing a user typed reaches a statement any other way.
 */
import type { ExplicitAsOf } from './as-of-system-time.js'
import type { BackupTarget, TableName } from './targets.js'

/**
 * Words CockroachDB will not read back as bare identifiers: the reserved and lookahead keywords of
 * pkg/sql/lexbase (reserved_keywords.go, predicates.go), plus a few from older releases. Quoting a
 * word that did not need it is harmless, so the list errs on the side of quoting.
 */
const KEYWORDS_NEEDING_QUOTES = new Set(
  `all analyse analyze and annotate_type any array as asc asymmetric authorization between bigint bit
  boolean both box2d case cast char character characteristics check coalesce
  cockroachdb_extra_reserved_keyword collate collation column concurrently constraint create cross
  current_catalog current_date current_role current_schema current_time current_timestamp
  current_user dec decimal default deferrable desc distinct do else end except exists extract
  extract_duration false family fetch float for foreign from full generated geography geometry
  grant greatest group grouping having if iferror ifnull ilike in index initially inner int integer
  intersect interval into is iserror isnull join lateral leading least left like limit localtime
  localtimestamp natural none not nothing notnull null nullif numeric of off offset on only or order
  ordinality out outer overlaps overlay placing point polygon position precision primary real
  references reset returning right role row select session_user set similar smallint some string
  substring symmetric table tenant then time timestamp timestamptz timetz to trailing treat trim true
  union unique user using values varbit varchar variadic virtual when where window with work`.split(/\s+/)
)

/** lexbase.IsBareIdentifier, restricted to ASCII (anything else is simply quoted). */
const BARE_IDENTIFIER = /^[a-z_][a-z0-9_$]*$/

function assertNoNul(value: string): void {
  // The wire protocol cannot carry NUL inside a statement; inputs are validated long before this.
  if (value.includes('\0')) throw new Error('a NUL character cannot be sent in SQL text')
}

/** An identifier exactly as written: bare when CockroachDB would read it back unchanged, quoted otherwise. */
export function quoteIdent(name: string): string {
  assertNoNul(name)
  if (BARE_IDENTIFIER.test(name) && !KEYWORDS_NEEDING_QUOTES.has(name)) return name
  return `"${name.replaceAll('"', '""')}"`
}

/** A standard SQL string literal (standard_conforming_strings is always on in CockroachDB). */
export function quoteLiteral(value: string): string {
  assertNoNul(value)
  return `'${value.replaceAll("'", "''")}'`
}

export function qualifiedTableName(table: TableName): string {
  return table.parts.map(part => (part === '*' ? '*' : quoteIdent(part))).join('.')
}

function targetList(target: BackupTarget): string {
  return target.kind === 'databases'
    ? `DATABASE ${target.databases.map(quoteIdent).join(', ')}`
    : `TABLE ${target.tables.map(qualifiedTableName).join(', ')}`
}

function asOfClause(asOf: ExplicitAsOf): string {
  return asOf.kind === 'follower-read' ? 'follower_read_timestamp()' : quoteLiteral(asOf.value)
}

export const SESSION_INFO = 'SELECT current_user, version()'

const JOB_ID = /^[0-9]{1,20}$/

function validJobId(jobId: string): string {
  if (!JOB_ID.test(jobId)) throw new Error(`not a job id: ${jobId}`)
  return jobId
}

/**
 * One job's state through SHOW JOB, the supported interface: v26.1+ refuses the internal schemas
 * to ordinary sessions (PR #158085). SHOW JOB has these columns in every version from v21.2
 * (pkg/sql/delegate/show_jobs.go). The id is inlined, not bound: the delegate prints the id
 * expression into the query it builds, and a placeholder there was not confirmed for every version.
 */
export function jobStatus(jobId: string): string {
  return `SELECT status, fraction_completed, error, description FROM [SHOW JOB ${validJobId(jobId)}]`
}

/**
 * v26.2+: with `use_backups_with_ids` on (a role default or an operator can turn it on), SHOW
 * BACKUPS IN lists `id, backup_time, revision_start_time` instead of `path`. The action turns it
 * off for its own session only.
 */
export const LIST_BACKUPS_BY_PATH = 'SET use_backups_with_ids = false'

/**
 * The gateway's HLC time as a decimal (`<ns>.<logical>`): an ordinary builtin, not an internal table, so not
 * restricted in v26.1+, and allowed in an implicit transaction in every version; v23.2+ refuses it
 * only under READ COMMITTED or REPEATABLE READ isolation (PR #107090; docs/cockroachdb-facts.md),
 * which PIN_ISOLATION rules out.
 */
export const CLUSTER_LOGICAL_TIMESTAMP = 'SELECT cluster_logical_timestamp()'

/**
 * Pinned on every connection the action opens, whatever a role default or the URL's `options` set
 * (docs/cockroachdb-facts.md §5b). A session whose time zone is ahead of UTC creates detached jobs
 * that may never start before v24.1.6 / v24.2.4 / v24.3.0 (cockroach #123207, fixed by PR #123632;
 * not on v23.2), and shows times in that zone. Every version accepts both statements: 'serializable'
 * is a valid default_transaction_isolation from v21.x on (pkg/sql/vars.go).
 */
export const PIN_TIME_ZONE = "SET TIME ZONE 'UTC'"

/** From v23.2 cluster_logical_timestamp() fails (0A000) under READ COMMITTED or REPEATABLE READ (see below). */
export const PIN_ISOLATION = "SET default_transaction_isolation = 'serializable'"

/** The cluster's clock, for finding a job created after this moment. */
export const CLUSTER_NOW = 'SELECT now() AS now'

/**
 * Jobs of one type (BACKUP, RESTORE) that one user created since a cluster time. SHOW JOBS is the
 * supported interface (the internal schemas are restricted from v26.1); it lists the last 12 hours.
 * From v24.1 it shows `created` truncated to the second and long descriptions abbreviated
 * (pkg/sql/delegate/show_jobs.go), so this is only a loose first cut: SHOW JOB <id> has the whole
 * description.
 */
export const RECENT_JOBS =
  'SELECT job_id, description FROM [SHOW JOBS] WHERE job_type = $1 AND user_name = $2 AND created >= $3::TIMESTAMPTZ'

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

export function cancelJob(jobId: string): string {
  return `CANCEL JOB ${validJobId(jobId)}`
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

/** userfile listing, as `cockroach userfile get` does it (pkg/cloud/userfile/filetable). */
export function listUserfiles(filesTable: string): string {
  return `SELECT filename, file_id, file_size FROM ${filesTable} WHERE filename LIKE $1 ORDER BY filename`
}

/**
 * Every chunk of one file, in order, as one streamed query (Session.streamBinary): binary result
 * format, so the payload arrives as its raw bytes, half of base64 over the wire and no decode;
 * one query per file, so there is no round trip per chunk (bench/download.ts measures both).
 */
export function readUserfileChunks(payloadTable: string): string {
  return `SELECT byte_offset, payload FROM ${payloadTable} WHERE file_id = $1 ORDER BY byte_offset`
}

/** Every chunk of several small files in one streamed query, file by file and in order within each. */
export function readUserfileChunksOfFiles(payloadTable: string): string {
  return `SELECT file_id, byte_offset, payload FROM ${payloadTable} WHERE file_id = ANY($1::UUID[]) ORDER BY file_id, byte_offset`
}

/** One stored file by name. */
export function findUserfile(filesTable: string): string {
  return `SELECT filename, file_id, file_size FROM ${filesTable} WHERE filename = $1`
}

export function insertUserfile(filesTable: string): string {
  return `INSERT INTO ${filesTable} (filename, file_id, file_size, username) VALUES ($1, $2, $3, $4)`
}

export function insertUserfileChunk(payloadTable: string): string {
  return `INSERT INTO ${payloadTable} (file_id, byte_offset, payload) VALUES ($1, $2, $3)`
}

export function userfileChunkTotals(payloadTable: string): string {
  return `SELECT count(*) AS chunks, COALESCE(sum(length(payload)), 0) AS bytes FROM ${payloadTable} WHERE file_id = $1`
}

export function deleteUserfilePayload(payloadTable: string): string {
  return `DELETE FROM ${payloadTable} WHERE file_id = $1`
}

export function deleteUserfile(filesTable: string): string {
  return `DELETE FROM ${filesTable} WHERE file_id = $1`
}

/**
 * The chunks of every file whose name matches the LIKE pattern $1: one statement for a whole
 * folder, so a backup's files go in one transaction without a round trip per file.
 */
export function deleteUserfilePayloadLike(payloadTable: string, filesTable: string): string {
  return `DELETE FROM ${payloadTable} WHERE file_id IN (SELECT file_id FROM ${filesTable} WHERE filename LIKE $1)`
}

/** The file rows whose name matches the LIKE pattern $1 (after their chunks: the payload refers to them). */
export function deleteUserfilesLike(filesTable: string): string {
  return `DELETE FROM ${filesTable} WHERE filename LIKE $1`
}

/** The chunks of the files whose ids are in the UUID array $1: what one run wrote, and nothing else. */
export function deleteUserfilePayloadOfIds(payloadTable: string): string {
  return `DELETE FROM ${payloadTable} WHERE file_id = ANY($1::UUID[])`
}

/** The file rows whose ids are in the UUID array $1 (after their chunks). */
export function deleteUserfilesOfIds(filesTable: string): string {
  return `DELETE FROM ${filesTable} WHERE file_id = ANY($1::UUID[])`
}

export function renameUserfile(filesTable: string): string {
  return `UPDATE ${filesTable} SET filename = $1 WHERE file_id = $2`
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

/**
 * DROP sees every database, whatever the user's CONNECT privilege; SHOW DATABASES lists only those
 * with CONNECT from v22.2 (pkg/sql/delegate/show_databases.go), so it cannot tell what RESTORE sees.
 */
export function dropDatabaseIfExists(name: string): string {
  return `DROP DATABASE IF EXISTS ${quoteIdent(name)} CASCADE`
}

/**
 * One statement, one implicit transaction. Refused (2BP01) while a view or function depends on one
 * of the database's tables, and (42P04) when the new name is taken (pkg/sql/rename_database.go).
 */
export function renameDatabase(name: string, newName: string): string {
  return `ALTER DATABASE ${quoteIdent(name)} RENAME TO ${quoteIdent(newName)}`
}

/** Only to explain an error: from v22.2 SHOW DATABASES hides databases the user has no CONNECT on. */
export const DATABASE_EXISTS = 'SELECT database_name FROM [SHOW DATABASES] WHERE database_name = $1'

/** Every database the session can see, for a failure's hint; delegated, so allowed on v26.1+ (facts §15). */
export const LIST_DATABASES = 'SELECT database_name FROM [SHOW DATABASES]'

/** Every table of one database, in every schema, for a failure's hint; delegated, so allowed on v26.1+. */
export function listTables(database: string): string {
  return `SELECT schema_name, table_name FROM [SHOW TABLES FROM ${quoteIdent(database)}]`
}

/** SHOW TABLES' `table_name` column is the same in every version (pkg/sql/delegate/show_tables.go). */
export function tableExists(database: string, schema: string): string {
  return `SELECT table_name FROM [SHOW TABLES FROM ${quoteIdent(database)}.${quoteIdent(schema)}] WHERE table_name = $1`
}

export function createDatabase(name: string): string {
  return `CREATE DATABASE ${quoteIdent(name)}`
}

/** The rows of one table, named in full so the session's database does not matter. */
export function countRows(database: string, schema: string, table: string): string {
  return `SELECT count(*) AS count FROM ${[database, schema, table].map(quoteIdent).join('.')}`
}

/**
 * What each relation of one schema is: SHOW TABLES' `type` is `table`, `view`, `materialized view`
 * or `sequence` (pkg/sql/delegate/show_tables.go); a delegated statement, allowed on v26.1+.
 */
export function relationKinds(database: string, schema: string): string {
  return `SELECT table_name, type FROM [SHOW TABLES FROM ${quoteIdent(database)}.${quoteIdent(schema)}]`
}

/** The rows of one table as a read at `asOf` (a decimal HLC or timestamp literal) sees them. */
export function countRowsAsOf(database: string, schema: string, table: string, asOf: string): string {
  return `${countRows(database, schema, table)} AS OF SYSTEM TIME ${quoteLiteral(asOf)}`
}
