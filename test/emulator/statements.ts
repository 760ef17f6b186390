/**
 * The statement shapes the emulator understands: the small typed structures parser.ts builds and
 * session.ts runs. Values stay as written (literals or `$n`) until execution resolves them.
 */
/** A literal or a bind parameter, resolved against the parameters at execution time. */
export type Value = { kind: 'string'; value: string } | { kind: 'number'; value: string } | { kind: 'placeholder'; index: number }

/** `count(*)`, or `COALESCE(sum(length(column)), 0)`: what the action checks an upload with. */
export type Aggregate = 'count' | 'sum-length'

/** `{ column, encoding }` is `encode(column, 'base64')`, as the action reads userfile payloads. */
export type SelectItem = {
  expr:
    | 'current_user'
    | 'session_user'
    | 'version'
    | 'cluster_logical_timestamp'
    | 'now'
    | Value
    | { column: string; encoding?: string; aggregate?: Aggregate }
  alias: string | undefined
}

/** `column = value` or `column >= value`, joined by AND: the filters the action puts on [SHOW JOBS]. */
export interface JobCondition {
  column: string
  op: '=' | '>='
  value: Value
}

export type JobsSource =
  | { kind: 'crdb_internal.jobs'; jobId: Value | undefined }
  | { kind: 'show-job'; jobId: Value }
  | { kind: 'show-jobs'; where: JobCondition[] }

export type TablePattern = { parts: string[]; star: boolean }

export type BackupTargets = { kind: 'cluster' } | { kind: 'databases'; names: string[] } | { kind: 'tables'; patterns: TablePattern[] }

export type Destination = { kind: 'new' } | { kind: 'latest' } | { kind: 'subdir'; subdir: Value }

/** `text` is the clause as written: job descriptions print it unresolved. */
export type AsOf = { kind: 'value'; value: Value; text: string } | { kind: 'follower-read'; text: string }

export interface BackupOptions {
  detached: boolean
  revisionHistory: boolean
  passphrase: Value | undefined
}

export interface BackupStatement {
  kind: 'backup'
  targets: BackupTargets
  destination: Destination
  collection: Value
  asOf: AsOf | undefined
  options: BackupOptions
}

export interface ShowBackupStatement {
  kind: 'show-backup'
  subdir: Value
  collection: Value
  spelledWithFrom: boolean
  checkFiles: boolean
  passphrase: Value | undefined
}

/** `column = v`, `column >= v`, `column LIKE v` or `column IN (SELECT c FROM t WHERE …)`, joined by AND. */
export type Condition =
  | { column: string; op: '=' | '>=' | 'like'; value: Value }
  | { column: string; op: 'in'; subquery: Subquery }
  /** `column = ANY($n)`: the placeholder holds an array (`{a,b}` in text form). */
  | { column: string; op: 'any'; value: Value }

/** `SELECT column FROM table WHERE …` inside `IN (…)`: how keep-backups deletes a folder's chunks. */
export interface Subquery {
  table: string[]
  column: string
  where: Condition[]
}

/** A SELECT from one of a userfile prefix's two tables (what `cockroach userfile get` and the action send). */
export interface SelectUserfileStatement {
  kind: 'select-userfile'
  /** The table name's parts as written (quoted parts verbatim, bare ones lower-cased). */
  table: string[]
  columns: { column: string; encoding?: string; aggregate?: Aggregate; name: string }[]
  where: Condition[]
  /** The ORDER BY columns, first to last (none: storage order). */
  orderBy: string[]
  limit: Value | undefined
  /** `FROM t AS OF SYSTEM TIME …`: a historical read (only a table count takes one). */
  asOf: AsOf | undefined
}

export interface RestoreStatement {
  kind: 'restore'
  targets: BackupTargets
  path: Value
  collection: Value
  detached: boolean
  newDbName: Value | undefined
  intoDb: Value | undefined
  passphrase: Value | undefined
}

/** The writes the restore companion's upload sends, and the statements around a restore. */
export type WriteStatement =
  | { kind: 'transaction'; action: 'begin' | 'commit' | 'rollback' }
  | { kind: 'insert-userfile'; table: string[]; columns: string[]; values: Value[] }
  | { kind: 'delete-userfile'; table: string[]; where: Condition[] }
  | { kind: 'update-userfile'; table: string[]; set: { column: string; value: Value }[]; where: Condition[] }
  | { kind: 'select-databases'; name: Value | undefined }
  | { kind: 'select-tables'; columns: string[]; from: string[]; name: Value | undefined }
  | { kind: 'drop-database'; name: string; ifExists: boolean }
  | { kind: 'rename-database'; name: string; newName: string }
  | { kind: 'create-database'; name: string }
  | { kind: 'drop-table'; parts: string[]; ifExists: boolean }
  /** `SET [SESSION] name = value` / `SET name TO value`: a session variable. */
  | { kind: 'set'; name: string; value: string }

export type Statement =
  | { kind: 'select'; items: SelectItem[] }
  | RestoreStatement
  | WriteStatement
  | SelectUserfileStatement
  /** A column list (or `*`) from crdb_internal.jobs or [SHOW JOB n]. */
  | { kind: 'select-jobs'; columns: string[] | '*'; from: JobsSource }
  | { kind: 'show-job'; jobId: Value }
  | { kind: 'cancel-job'; jobId: Value }
  | { kind: 'show-backups'; collection: Value }
  | ShowBackupStatement
  | BackupStatement

export interface ParsedStatement {
  statement: Statement
  /** The statement's own text, without the separating `;`. */
  sql: string
  /** How many `$n` it uses (the highest n). */
  parameterCount: number
}
