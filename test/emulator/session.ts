/**
 * CockroachDB's side of a connection: authentication, the parameters it reports, and each parsed
 * statement turned into columns, rows and a command tag. The wire protocol lives in wire-server.ts.
 */
import { clusterLogicalTimestamp } from './asof.js'
import { backupResultColumns, runBackup, runRestore } from './backup-restore-sql.js'
import { createDatabase, dropDatabase, dropTable, renameDatabase, selectDatabases, selectTables } from './catalog-sql.js'
import type { Cluster } from './cluster.js'
import {
  CrdbError,
  echoingSyntaxError,
  internalsRestricted,
  passwordFailed,
  syntaxError,
  undefinedColumn,
  unknownVariable
} from './errors.js'
import type { JobRegistry } from './jobs.js'
import { jobColumns, jobIdOf, jobViewOf, selectColumns, selectJobs, showJob } from './jobs-sql.js'
import { redactSecrets } from './lexer.js'
import { namesInternals, parseStatements } from './parser.js'
import type { ColumnType, VersionProfile } from './profiles.js'
import {
  BACKUPS_WITH_IDS_COLUMNS,
  formatTimestamp,
  showBackup,
  showBackupColumns,
  showBackups,
  showBackupsWithIds,
  type ColumnDef,
  type Row
} from './show.js'
import { openStorage } from './storage.js'
import type { ParsedStatement, Statement, Value } from './statements.js'
import { countTableRows, isTableCount, tableCountColumns } from './table-count.js'
import { optionVariables, refuseClusterTimestamp, utcOffsetMinutes } from './session-variables.js'
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
  /** Statements matching this, after the first `skip`, lose their connection half-way through their rows (see Emulator.cutConnectionsMidAnswer). */
  cutMidAnswer?: { matching: RegExp; skip: number }
  /** Statements matching this fail as a syntax error that echoes them (see Emulator.rejectAsSyntaxError). */
  rejectSyntax?: RegExp
  /** A hostile cluster: rewrites every text value it sends (see Emulator.tamperResults). */
  tamper?: ResultTamper
}

/** Gets each non-null value of a result with its column's name; returns what is sent instead (null: NULL). */
export type ResultTamper = (column: string, value: string) => string | null

const toWire = (columns: ColumnDef[]): Column[] => columns.map(c => ({ name: c.name, type: PG_TYPE[c.type] }))

/** The session variables the emulator models, with this version's defaults; absent where the version lacks one. */
export function sessionVariableDefaults(profile: VersionProfile): Map<string, string> {
  const variables = new Map<string, string>([
    ['timezone', 'utc'],
    ['default_transaction_isolation', 'serializable']
  ])
  if (profile.allowUnsafeInternals !== 'absent') {
    variables.set('allow_unsafe_internals', profile.allowUnsafeInternals === 'default-on' ? 'true' : 'false')
  }
  if (profile.hasUseBackupsWithIds) variables.set('use_backups_with_ids', 'false')
  return variables
}

const BOOLEAN_WORDS: Record<string, string> = { true: 'true', on: 'true', false: 'false', off: 'false' }

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

  /** This session's variables: the version's defaults, then the role defaults, then the connection's `options`, then its own SETs. */
  private variablesOf(session: Session): Map<string, string> {
    let variables = this.variables.get(session)
    if (!variables) {
      variables = sessionVariableDefaults(this.cluster.profile)
      for (const [name, value] of [...this.cluster.roleDefaults, ...optionVariables(session.options)]) {
        if (variables.has(name)) variables.set(name, value.toLowerCase())
      }
      this.variables.set(session, variables)
    }
    return variables
  }

  /** cockroach #123207 (v23.2): this session's detached jobs never start when its zone is ahead of UTC. */
  private detachedJobsNeverStart(session: Session): boolean {
    const zone = this.variablesOf(session).get('timezone') ?? 'utc'
    return this.cluster.profile.detachedJobsFromZonesAheadOfUtcNeverStart && utcOffsetMinutes(zone, this.cluster.now()) > 0
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

  private cutAfterRows(sql: string, rows: number): number | undefined {
    const cut = this.state.cutMidAnswer
    if (cut === undefined || !cut.matching.test(sql)) return undefined
    if (cut.skip > 0) {
      cut.skip--
      return undefined
    }
    return Math.floor(rows / 2)
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
          return {
            columns: columns && toWire(columns),
            rows: sent,
            commandTag: tag,
            cutAfterRows: this.cutAfterRows(parsed.sql, sent.length)
          }
        } catch (error) {
          this.transactions.failed(session)
          throw error
        }
      }
    }
  }

  /** A job statement that waits for its job cannot run inside BEGIN … COMMIT (backup_planning.go, restore_planning.go). */
  private refuseInTransaction(session: Session, what: 'BACKUP' | 'RESTORE'): void {
    if (!this.transactions.isOpen(session)) return
    const transaction = this.cluster.profile.transactionRefusalSaysMultiStatement ? 'a multi-statement transaction' : 'a transaction'
    throw new CrdbError(`${what} cannot be used inside ${transaction} without DETACHED option`)
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
        return selectColumns(jobColumns(this.cluster, jobViewOf(statement.from)), statement.columns)
      case 'select-userfile':
        if (isTableCount(statement)) return tableCountColumns(statement)
        return userfileSelectColumns(this.cluster, statement)
      case 'show-job':
        return jobColumns(this.cluster, 'show-job')
      case 'cancel-job':
        return undefined
      case 'show-backups':
        return this.variablesOf(session).get('use_backups_with_ids') === 'true'
          ? BACKUPS_WITH_IDS_COLUMNS
          : [{ name: 'path', type: 'STRING' }]
      case 'show-backup':
        if (statement.spelledWithFrom && !profile.supportsShowBackupFrom) throw syntaxError('from')
        // Before v22.2 SHOW BACKUP's options are a generic list checked by TypeAsStringOpts (reading Q14).
        if (statement.checkFiles && !profile.supportsCheckFiles) throw new CrdbError('invalid option "check_files"')
        return showBackupColumns(this.cluster, statement.checkFiles)
      case 'backup':
        return backupResultColumns(this.cluster, statement)
      case 'restore':
        return backupResultColumns(this.cluster, { options: { detached: statement.detached } })
      case 'select-databases':
        return [{ name: 'database_name', type: 'STRING' }]
      case 'select-tables':
        return statement.columns.map(name => ({ name, type: 'STRING' }))
      case 'transaction':
      case 'insert-userfile':
      case 'delete-userfile':
      case 'update-userfile':
      case 'drop-database':
      case 'rename-database':
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
    switch (statement.kind) {
      case 'select': {
        const row = statement.items.map(item => {
          if (item.expr === 'current_user' || item.expr === 'session_user') return session.user
          if (item.expr === 'version') return cluster.profile.versionString
          if (item.expr === 'cluster_logical_timestamp') {
            if (cluster.profile.clusterTimestampNeedsSerializable) {
              refuseClusterTimestamp(this.variablesOf(session).get('default_transaction_isolation'))
            }
            return clusterLogicalTimestamp(cluster.now().getTime() + cluster.clockReadingLeadMs)
          }
          if (item.expr === 'now') return formatTimestamp(cluster.now().getTime(), 'TIMESTAMPTZ')
          return 'column' in item.expr ? null : text(item.expr)
        })
        return { rows: [row], tag: 'SELECT 1' }
      }
      case 'select-jobs':
        return selectJobs(cluster, statement, text)
      case 'select-userfile': {
        if (isTableCount(statement)) return { rows: countTableRows(cluster, statement, text), tag: 'SELECT 1' }
        const rows = selectUserfile(cluster, statement, text)
        return { rows, tag: `SELECT ${rows.length}` }
      }
      case 'show-job':
        return showJob(cluster, statement.jobId, text)
      case 'cancel-job':
        this.state.jobs.cancel(jobIdOf(statement.jobId, text))
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
        if (statement.name === 'timezone' || statement.name === 'default_transaction_isolation') {
          variables.set(statement.name, statement.value)
          return { rows: [], tag: 'SET' }
        }
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
        if (!statement.options.detached) this.refuseInTransaction(session, 'BACKUP')
        return runBackup(cluster, this.state.jobs, statement, text, session, this.detachedJobsNeverStart(session))
      case 'restore':
        if (!statement.detached) this.refuseInTransaction(session, 'RESTORE')
        return runRestore(cluster, this.state.jobs, statement, text, session, sql, this.detachedJobsNeverStart(session))
      case 'select-databases':
        return selectDatabases(cluster, statement, text, session.user)
      case 'select-tables':
        return selectTables(cluster, statement, text)
      case 'drop-database':
        return dropDatabase(cluster, statement)
      case 'create-database':
        return createDatabase(cluster, statement)
      case 'rename-database':
        return renameDatabase(cluster, statement)
      case 'drop-table':
        return dropTable(cluster, statement)
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
}
