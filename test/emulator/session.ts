/**
 * CockroachDB's side of a connection: authentication, the parameters it reports, and each parsed
 * statement turned into columns, rows and a command tag. The wire protocol lives in wire-server.ts.
 */
import { clusterLogicalTimestamp } from './asof.js'
import { describeBackup, planBackup, resolveDestination, writeBackup } from './backup.js'
import { addDatabase, type Cluster, type Job } from './cluster.js'
import { CrdbError, internalsRestricted, invalidInt, passwordFailed, syntaxError, undefinedColumn, unknownVariable } from './errors.js'
import type { JobRegistry } from './jobs.js'
import { redactSecrets } from './lexer.js'
import { namesInternals, parseStatements } from './parser.js'
import type { ColumnType, VersionProfile } from './profiles.js'
import { formatTimestamp, showBackup, showBackupColumns, showBackups, showBackupsWithIds, type ColumnDef, type Row } from './show.js'
import { openStorage } from './storage.js'
import { applyRestore, planRestore } from './restore.js'
import type { BackupStatement, JobCondition, ParsedStatement, RestoreStatement, Statement, Value } from './statements.js'
import { countTableRows, isTableCount, tableCountColumns } from './table-count.js'
import { Transactions } from './transactions.js'
import { deleteUserfile, insertUserfile, selectUserfile, updateUserfile, userfileSelectColumns } from './userfile-sql.js'
import type { AuthPlan, Cell, Column, PgType, PreparedStatement, Protocol, Session, WireHandler } from './wire.js'

const PG_TYPE: Record<ColumnType, PgType> = {
  INT8: 'int8',
  STRING: 'text',
  FLOAT8: 'float8',
  BOOL: 'bool',
  TIMESTAMP: 'timestamp',
  TIMESTAMPTZ: 'timestamptz',
  BYTES: 'bytea',
  UUID: 'uuid',
  INTERVAL: 'interval',
  'STRING[]': 'text[]',
  DECIMAL: 'numeric'
}

/**
 * A statement as the emulator received it. This record stays in memory for tests (which check, for
 * example, that a passphrase reached the server); the emulator never prints it or puts it in an error.
 */
export interface StatementLogEntry {
  user: string
  /** The statement's text as sent. */
  sql: string
  /** The same with every `encryption_passphrase = '…'` and `password '…'` literal replaced by `'*****'`. */
  redactedSql: string
  params: Cell[]
  protocol: Protocol
  at: Date
}

export interface EmulatorState {
  cluster: Cluster
  jobs: JobRegistry
  /** user → password when password authentication is on; undefined for insecure mode. */
  passwords: Map<string, string> | undefined
  statements: StatementLogEntry[]
  queryDelayMs: number
  /** Statements whose text matches fail with this error instead of running (a test control). */
  refusals: { matches: (sql: string) => boolean; error: CrdbError }[]
  /** Only statements matching this wait (all when undefined). */
  queryDelayMatching?: RegExp
  /** The statement runs at once and only its answer waits (it is done when the client gives up). */
  queryDelayAfter?: boolean
  /** Statements matching this fail as a syntax error that echoes them (see Emulator.rejectAsSyntaxError). */
  rejectSyntax?: RegExp
  /** A hostile cluster: rewrites every text value it sends (see Emulator.tamperResults). */
  tamper?: ResultTamper
}

/** Gets each non-null value of a result with its column's name; returns what is sent instead. */
export type ResultTamper = (column: string, value: string) => string

const BASE_JOB_COLUMNS: ColumnDef[] = [
  { name: 'job_id', type: 'INT8' },
  { name: 'job_type', type: 'STRING' },
  { name: 'description', type: 'STRING' },
  { name: 'statement', type: 'STRING' },
  { name: 'user_name', type: 'STRING' },
  { name: 'status', type: 'STRING' },
  { name: 'running_status', type: 'STRING' },
  { name: 'created', type: 'TIMESTAMP' },
  { name: 'started', type: 'TIMESTAMP' },
  { name: 'finished', type: 'TIMESTAMP' },
  { name: 'modified', type: 'TIMESTAMP' },
  { name: 'fraction_completed', type: 'FLOAT8' },
  { name: 'error', type: 'STRING' },
  { name: 'coordinator_id', type: 'INT8' }
]

const EXECUTION_JOB_COLUMNS: ColumnDef[] = [
  { name: 'trace_id', type: 'INT8' },
  { name: 'last_run', type: 'TIMESTAMP' },
  { name: 'next_run', type: 'TIMESTAMP' },
  { name: 'num_runs', type: 'INT8' },
  { name: 'execution_errors', type: 'STRING[]' }
]

/** SHOW JOB's columns (pkg/sql/delegate/show_jobs.go); crdb_internal.jobs has at least these. */
function jobColumns(cluster: Cluster): ColumnDef[] {
  const time = cluster.profile.jobsTimestampType
  const columns = [...BASE_JOB_COLUMNS, ...(cluster.profile.showJobHasExecutionColumns ? EXECUTION_JOB_COLUMNS : [])]
  return columns.map(c => (c.type === 'TIMESTAMP' ? { ...c, type: time } : c))
}

function jobRow(cluster: Cluster, job: Job, columns: ColumnDef[]): Row {
  const time = cluster.profile.jobsTimestampType
  const ts = (d: Date | undefined): string | null => (d ? formatTimestamp(d.getTime(), time) : null)
  const values: Record<string, string | null> = {
    job_id: job.id,
    job_type: job.type,
    description: job.description,
    statement: '',
    user_name: job.user,
    status: job.status,
    running_status: null,
    created: ts(job.created),
    started: ts(job.started),
    finished: ts(job.finished),
    modified: ts(job.modified),
    fraction_completed: String(job.fractionCompleted),
    error: job.error,
    coordinator_id: '1',
    trace_id: '0',
    last_run: ts(job.started),
    next_run: null,
    num_runs: '1',
    execution_errors: '{}'
  }
  return columns.map(c => values[c.name] ?? null)
}

/**
 * A syntax error at the statement's last token, with the detail CockroachDB's lexer adds
 * (pkg/sql/parser/lexer.go, populateErrorDetails): `source SQL:`, the statement up to the end of
 * that token's line, and a caret under the token. String literals, secrets included, are echoed.
 */
function echoingSyntaxError(sql: string): CrdbError {
  const lastToken = /(\S+)\s*$/.exec(sql)
  const position = lastToken?.index ?? 0
  const lineStart = sql.lastIndexOf('\n', position) + 1
  return new CrdbError(
    `at or near "${(lastToken?.[1] ?? '').toLowerCase()}": syntax error`,
    '42601',
    `source SQL:\n${sql}\n${' '.repeat(position - lineStart)}^`
  )
}

/** One WHERE condition on a [SHOW JOBS] row; times compare as instants. */
function jobMatches(cluster: Cluster, job: Job, condition: JobCondition, value: string): boolean {
  const cell = jobRow(cluster, job, [{ name: condition.column, type: 'STRING' }])[0] ?? null
  if (cell === null) return false
  if (condition.op === '=') return cell === value
  const instant = (text: string): number => {
    const iso = text.replace(' ', 'T')
    if (/[+-]\d\d$/.test(iso)) return Date.parse(`${iso}:00`)
    return Date.parse(/(Z|[+-]\d\d:\d\d)$/.test(iso) ? iso : `${iso}Z`) // TIMESTAMP: UTC
  }
  return instant(cell) >= instant(value)
}

const toWire = (columns: ColumnDef[]): Column[] => columns.map(c => ({ name: c.name, type: PG_TYPE[c.type] }))

function selectColumns(all: ColumnDef[], wanted: string[] | '*'): ColumnDef[] {
  if (wanted === '*') return all
  return wanted.map(name => {
    const column = all.find(c => c.name === name)
    if (!column) throw undefinedColumn(name)
    return column
  })
}

/** BACKUP and RESTORE share their result headers (jobs.BulkJobExecutionResultHeader / BackupRestoreJobResultHeader). */
function backupResultColumns(cluster: Cluster, statement: { options: { detached: boolean } }): ColumnDef[] {
  if (statement.options.detached) return [{ name: 'job_id', type: 'INT8' }]
  return cluster.profile.backupResultColumns.split(',').map(name => ({
    name,
    type: name === 'status' ? 'STRING' : name === 'fraction_completed' ? 'FLOAT8' : 'INT8'
  }))
}

/** The session variables the emulator models, with this version's defaults; absent where the version lacks one. */
export function sessionVariableDefaults(profile: VersionProfile): Map<string, string> {
  const variables = new Map<string, string>()
  if (profile.allowUnsafeInternals !== 'absent') {
    variables.set('allow_unsafe_internals', profile.allowUnsafeInternals === 'default-on' ? 'true' : 'false')
  }
  if (profile.hasUseBackupsWithIds) variables.set('use_backups_with_ids', 'false')
  return variables
}

const BOOLEAN_WORDS: Record<string, string> = { true: 'true', on: 'true', false: 'false', off: 'false' }

/** SHOW BACKUPS IN's header with use_backups_with_ids on (pkg/backup/show.go showBackupsWithIDsHeader). */
const BACKUPS_WITH_IDS_COLUMNS: ColumnDef[] = [
  { name: 'id', type: 'STRING' },
  { name: 'backup_time', type: 'TIMESTAMPTZ' },
  { name: 'revision_start_time', type: 'TIMESTAMPTZ' }
]

const sleep = (ms: number): Promise<void> =>
  new Promise(resolve => {
    setTimeout(resolve, ms).unref()
  })

export class CockroachHandler implements WireHandler {
  private readonly transactions: Transactions

  constructor(private readonly state: EmulatorState) {
    this.transactions = new Transactions(state.cluster)
  }

  private readonly variables = new WeakMap<Session, Map<string, string>>()

  /** This session's variables: the version's defaults, then the role defaults, then its own SETs. */
  private variablesOf(session: Session): Map<string, string> {
    let variables = this.variables.get(session)
    if (!variables) {
      variables = sessionVariableDefaults(this.cluster.profile)
      for (const [name, value] of this.cluster.roleDefaults) if (variables.has(name)) variables.set(name, value)
      this.variables.set(session, variables)
    }
    return variables
  }

  private get cluster(): Cluster {
    return this.state.cluster
  }

  authenticate(session: Session): AuthPlan {
    const passwords = this.state.passwords
    if (!passwords || session.certificateCommonName === session.user) return { kind: 'trust' }
    return {
      kind: 'password',
      verify: password => (passwords.get(session.user) === password && password !== '' ? undefined : passwordFailed(session.user))
    }
  }

  parameterStatus(session: Session): Record<string, string> {
    const profile = this.cluster.profile
    return {
      application_name: '',
      client_encoding: 'UTF8',
      DateStyle: 'ISO, MDY',
      IntervalStyle: 'postgres',
      integer_datetimes: 'on',
      is_superuser: session.user === 'root' ? 'on' : 'off',
      server_encoding: 'UTF8',
      server_version: profile.serverVersion,
      session_authorization: session.user,
      standard_conforming_strings: 'on',
      TimeZone: 'UTC',
      crdb_version: profile.versionString
    }
  }

  prepare(sql: string, session: Session, protocol: Protocol): PreparedStatement[] {
    let parsed: ParsedStatement[]
    try {
      // Name resolution refuses these before anything runs (v26.1+, unless the session opted in).
      if (this.variablesOf(session).get('allow_unsafe_internals') === 'false' && namesInternals(sql)) throw internalsRestricted()
      parsed = parseStatements(sql)
    } catch (error) {
      // A statement that does not parse is still recorded, then reported.
      this.log(session, sql, [], protocol)
      this.transactions.failed(session)
      throw error
    }
    try {
      return parsed.map(p => this.prepareOne(p, session))
    } catch (error) {
      this.transactions.failed(session) // an unknown column or table aborts a transaction too
      throw error
    }
  }

  private log(session: Session, sql: string, params: Cell[], protocol: Protocol): void {
    this.state.statements.push({
      user: session.user,
      sql,
      redactedSql: redactSecrets(sql),
      params: [...params],
      protocol,
      at: this.cluster.now()
    })
  }

  private prepareOne(parsed: ParsedStatement, session: Session): PreparedStatement {
    const columns = this.columnsOf(parsed.statement, session)
    return {
      parameterCount: parsed.parameterCount,
      columns: columns && toWire(columns),
      execute: async (params, protocol) => {
        this.log(session, parsed.sql, params, protocol)
        if (this.state.rejectSyntax?.test(parsed.sql)) throw echoingSyntaxError(parsed.sql)
        const delayed = this.state.queryDelayMs > 0 && (this.state.queryDelayMatching?.test(parsed.sql) ?? true)
        const delayAfter = delayed && this.state.queryDelayAfter === true
        if (delayed && !delayAfter) await sleep(this.state.queryDelayMs)
        const refusal = this.state.refusals.find(r => r.matches(parsed.sql))
        if (refusal) throw refusal.error
        const text = (value: Value): string => {
          if (value.kind !== 'placeholder') return value.value
          const param = params[value.index - 1]
          if (param === undefined || param === null) throw new CrdbError(`no value provided for placeholder: $${value.index}`, '08P01')
          return param
        }
        const statement = parsed.statement
        this.transactions.check(session, statement.kind === 'transaction' && statement.action !== 'begin')
        try {
          const { rows, tag } = await this.run(statement, text, session, parsed.sql)
          if (delayAfter) await sleep(this.state.queryDelayMs)
          const tamper = this.state.tamper
          const sent =
            tamper && columns ? rows.map(row => row.map((cell, i) => (cell === null ? cell : tamper(columns[i]?.name ?? '', cell)))) : rows
          return { columns: columns && toWire(columns), rows: sent, commandTag: tag }
        } catch (error) {
          this.transactions.failed(session)
          throw error
        }
      }
    }
  }

  /** The result columns, known before execution (for Describe); undefined for row-count statements. */
  private columnsOf(statement: Statement, session: Session): ColumnDef[] | undefined {
    const profile = this.cluster.profile
    switch (statement.kind) {
      case 'select':
        return statement.items.map(item => {
          if (item.expr === 'current_user' || item.expr === 'session_user') return { name: item.alias ?? item.expr, type: 'STRING' }
          if (item.expr === 'version') return { name: item.alias ?? 'version', type: 'STRING' }
          if (item.expr === 'cluster_logical_timestamp') return { name: item.alias ?? item.expr, type: 'DECIMAL' }
          if (item.expr === 'now') return { name: item.alias ?? 'now', type: 'TIMESTAMPTZ' }
          if ('column' in item.expr) throw undefinedColumn(item.expr.column)
          return { name: item.alias ?? '?column?', type: item.expr.kind === 'number' ? 'INT8' : 'STRING' }
        })
      case 'select-jobs':
        return selectColumns(jobColumns(this.cluster), statement.columns)
      case 'select-userfile':
        if (isTableCount(statement)) return tableCountColumns(statement)
        return userfileSelectColumns(this.cluster, statement)
      case 'show-job':
        return jobColumns(this.cluster)
      case 'cancel-job':
        return undefined
      case 'show-backups':
        return this.variablesOf(session).get('use_backups_with_ids') === 'true'
          ? BACKUPS_WITH_IDS_COLUMNS
          : [{ name: 'path', type: 'STRING' }]
      case 'show-backup':
        if (statement.spelledWithFrom && !profile.supportsShowBackupFrom) throw syntaxError('from')
        if (statement.checkFiles && !profile.supportsCheckFiles) throw syntaxError('check_files')
        return showBackupColumns(this.cluster, statement.checkFiles)
      case 'backup':
        return backupResultColumns(this.cluster, statement)
      case 'restore':
        return backupResultColumns(this.cluster, { options: { detached: statement.detached } })
      case 'select-databases':
        return [{ name: 'database_name', type: 'STRING' }]
      case 'select-tables':
        return [{ name: 'table_name', type: 'STRING' }]
      case 'transaction':
      case 'insert-userfile':
      case 'delete-userfile':
      case 'update-userfile':
      case 'drop-database':
      case 'drop-table':
      case 'create-database':
      case 'set':
        return undefined
    }
  }

  private async run(
    statement: Statement,
    text: (v: Value) => string,
    session: Session,
    sql: string
  ): Promise<{ rows: Row[]; tag: string }> {
    const cluster = this.cluster
    const jobId = (value: Value): string => {
      const id = text(value).trim()
      if (!/^-?\d+$/.test(id)) throw invalidInt(id)
      return id
    }
    switch (statement.kind) {
      case 'select': {
        const row = statement.items.map(item => {
          if (item.expr === 'current_user' || item.expr === 'session_user') return session.user
          if (item.expr === 'version') return cluster.profile.versionString
          if (item.expr === 'cluster_logical_timestamp')
            return clusterLogicalTimestamp(cluster.now().getTime() + cluster.clockReadingLeadMs)
          if (item.expr === 'now') return formatTimestamp(cluster.now().getTime(), 'TIMESTAMPTZ')
          return 'column' in item.expr ? null : text(item.expr)
        })
        return { rows: [row], tag: 'SELECT 1' }
      }
      case 'select-jobs': {
        const columns = selectColumns(jobColumns(cluster), statement.columns)
        const source = statement.from
        if (source.kind === 'show-jobs') {
          const rows = [...cluster.jobs.values()]
            .filter(job => source.where.every(condition => jobMatches(cluster, job, condition, text(condition.value))))
            .map(job => jobRow(cluster, job, columns))
          return { rows, tag: `SELECT ${rows.length}` }
        }
        const wanted = source.jobId === undefined ? undefined : jobId(source.jobId)
        const jobs = [...cluster.jobs.values()].filter(job => wanted === undefined || job.id === wanted)
        const rows = jobs.map(job => jobRow(cluster, job, columns))
        return { rows, tag: `SELECT ${rows.length}` }
      }
      case 'select-userfile': {
        if (isTableCount(statement)) return { rows: countTableRows(cluster, statement), tag: 'SELECT 1' }
        const rows = selectUserfile(cluster, statement, text)
        return { rows, tag: `SELECT ${rows.length}` }
      }
      case 'show-job': {
        const job = cluster.jobs.get(jobId(statement.jobId))
        const rows = job ? [jobRow(cluster, job, jobColumns(cluster))] : []
        return { rows, tag: `SHOW JOBS ${rows.length}` }
      }
      case 'cancel-job':
        this.state.jobs.cancel(jobId(statement.jobId))
        return { rows: [], tag: 'CANCEL JOBS 1' }
      case 'show-backups': {
        const storage = openStorage(cluster, text(statement.collection), session.user)
        if (this.variablesOf(session).get('use_backups_with_ids') === 'true') {
          const rows = showBackupsWithIds(cluster, storage)
          return { rows, tag: `SHOW BACKUP ${rows.length}` }
        }
        const paths = showBackups(cluster, storage)
        return { rows: paths.map(p => [p]), tag: `SHOW BACKUP ${paths.length}` }
      }
      case 'set': {
        const variables = this.variablesOf(session)
        if (!variables.has(statement.name)) throw unknownVariable(statement.name)
        const value = BOOLEAN_WORDS[statement.value]
        if (value === undefined) throw new CrdbError(`parameter "${statement.name}" requires a Boolean value`, '22023')
        variables.set(statement.name, value)
        return { rows: [], tag: 'SET' }
      }
      case 'show-backup': {
        const storage = openStorage(cluster, text(statement.collection), session.user)
        const passphrase = statement.passphrase && text(statement.passphrase)
        const rows = showBackup(cluster, storage, { subdir: text(statement.subdir), checkFiles: statement.checkFiles, passphrase })
        return { rows, tag: `SHOW BACKUP ${rows.length}` }
      }
      case 'backup':
        return this.backup(statement, text, session)
      case 'restore':
        return this.restore(statement, text, session, sql)
      case 'select-databases': {
        const wanted = statement.name && text(statement.name)
        // v22.2+ (pkg/sql/delegate/show_databases.go): only databases the user may CONNECT to.
        const visible = (name: string): boolean =>
          !cluster.profile.showDatabasesNeedsConnect || session.user === 'root' || !cluster.connectRevoked.has(name)
        const names = [...cluster.databases.keys()].filter(name => (wanted === undefined || name === wanted) && visible(name)).sort()
        return { rows: names.map(name => [name]), tag: `SELECT ${names.length}` }
      }
      case 'select-tables': {
        // SHOW TABLES FROM db.schema, or FROM db (its public schema); the present, not a past time.
        const [database = '', schema = 'public'] = statement.from
        const tables = cluster.databases.get(database)?.schemas.get(schema)
        if (!tables) throw new CrdbError('target database or schema does not exist', '3F000') // approximate
        const wanted = statement.name && text(statement.name)
        const names = [...tables.keys()].filter(name => wanted === undefined || name === wanted).sort()
        return { rows: names.map(name => [name]), tag: `SELECT ${names.length}` }
      }
      case 'drop-database': {
        if (!cluster.databases.delete(statement.name) && !statement.ifExists) {
          throw new CrdbError(`database "${statement.name}" does not exist`, '3D000')
        }
        return { rows: [], tag: 'DROP DATABASE' }
      }
      case 'create-database': {
        if (cluster.databases.has(statement.name)) throw new CrdbError(`database "${statement.name}" already exists`, '42P04')
        addDatabase(cluster, statement.name, {})
        return { rows: [], tag: 'CREATE DATABASE' }
      }
      case 'drop-table': {
        const [database, schema, table] =
          statement.parts.length === 3 ? statement.parts : [statement.parts[0], 'public', statement.parts[1]]
        const dropped =
          cluster.databases
            .get(database ?? '')
            ?.schemas.get(schema ?? '')
            ?.delete(table ?? '') ?? false
        if (!dropped && !statement.ifExists) throw new CrdbError(`relation "${statement.parts.join('.')}" does not exist`, '42P01')
        return { rows: [], tag: 'DROP TABLE' }
      }
      case 'transaction':
        return { rows: [], tag: this.transactions.apply(session, statement.action) }
      case 'insert-userfile':
        return { rows: [], tag: `INSERT 0 ${insertUserfile(cluster, statement, text, session.user)}` }
      case 'delete-userfile':
        return { rows: [], tag: `DELETE ${deleteUserfile(cluster, statement, text)}` }
      case 'update-userfile':
        return { rows: [], tag: `UPDATE ${updateUserfile(cluster, statement, text)}` }
    }
  }

  private async restore(
    statement: RestoreStatement,
    text: (v: Value) => string,
    session: Session,
    sql: string
  ): Promise<{ rows: Row[]; tag: string }> {
    const cluster = this.cluster
    const plan = planRestore(cluster, statement, text, session.user, redactSecrets(sql))
    const { job, done } = this.state.jobs.create(session.user, plan.description, running => {
      const { rows, bytes } = applyRestore(cluster, plan)
      running.result = { rows, indexEntries: 0, bytes }
    })
    job.type = 'RESTORE'
    if (statement.detached) return { rows: [[job.id]], tag: 'RESTORE 1' }
    const error = await done
    if (error) throw error
    const all: Record<string, string> = {
      job_id: job.id,
      status: job.status,
      fraction_completed: String(job.fractionCompleted),
      rows: String(job.result.rows),
      index_entries: '0',
      bytes: String(job.result.bytes)
    }
    return { rows: [cluster.profile.backupResultColumns.split(',').map(name => all[name] ?? null)], tag: 'RESTORE 1' }
  }

  private async backup(statement: BackupStatement, text: (v: Value) => string, session: Session): Promise<{ rows: Row[]; tag: string }> {
    const cluster = this.cluster
    const destination = statement.destination
    const plan = planBackup(cluster, {
      statement,
      collection: text(statement.collection),
      subdir: destination.kind === 'subdir' ? text(destination.subdir) : undefined,
      asOf: statement.asOf?.kind === 'value' ? text(statement.asOf.value) : undefined,
      passphrase: statement.options.passphrase && text(statement.options.passphrase),
      user: session.user,
      database: session.database
    })
    const { job, done } = this.state.jobs.create(session.user, describeBackup(cluster, plan), running => {
      running.result = writeBackup(cluster, plan, plan.resolved ?? resolveDestination(cluster, plan), running.id)
    })
    if (plan.detached) return { rows: [[job.id]], tag: 'BACKUP 1' }
    const error = await done
    if (error) throw error
    const { rows, indexEntries, bytes } = job.result
    const all: Record<string, string> = {
      job_id: job.id,
      status: job.status,
      fraction_completed: String(job.fractionCompleted),
      rows: String(rows),
      index_entries: String(indexEntries),
      bytes: String(bytes)
    }
    return { rows: [cluster.profile.backupResultColumns.split(',').map(name => all[name] ?? null)], tag: 'BACKUP 1' }
  }
}
