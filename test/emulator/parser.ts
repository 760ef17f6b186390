/**
 * The statement shapes the emulator understands, parsed by recursive descent into small typed
 * structures. Anything else is CockroachDB's `at or near "…": syntax error` (42601) at the first
 * token the grammar cannot take.
 */
import { syntaxError } from './errors.js'
import { describeToken, tokenize, type Token } from './lexer.js'

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
  | { kind: 'select-tables'; from: string[]; name: Value | undefined }
  | { kind: 'drop-database'; name: string; ifExists: boolean }
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

class Parser {
  private pos = 0
  maxPlaceholder = 0

  constructor(
    private readonly sql: string,
    private readonly tokens: Token[]
  ) {}

  peek(offset = 0): Token {
    const token = this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)]
    if (!token) throw new Error('token stream without EOF')
    return token
  }

  fail(token: Token = this.peek()): never {
    throw syntaxError(describeToken(token))
  }

  isWord(word: string, offset = 0): boolean {
    const token = this.peek(offset)
    return token.kind === 'word' && token.value === word
  }

  acceptWord(word: string): boolean {
    if (!this.isWord(word)) return false
    this.pos++
    return true
  }

  expectWord(word: string): void {
    if (!this.acceptWord(word)) this.fail()
  }

  isPunct(value: string): boolean {
    const token = this.peek()
    return token.kind === 'punct' && token.value === value
  }

  acceptPunct(value: string): boolean {
    if (!this.isPunct(value)) return false
    this.pos++
    return true
  }

  expectPunct(value: string): void {
    if (!this.acceptPunct(value)) this.fail()
  }

  atStatementEnd(): boolean {
    const token = this.peek()
    return token.kind === 'eof' || (token.kind === 'punct' && token.value === ';')
  }

  /** An identifier, bare (folded to lower case) or quoted (kept as written). */
  name(): string {
    const token = this.peek()
    if (token.kind !== 'word' && token.kind !== 'identifier') this.fail()
    this.pos++
    return token.value
  }

  /** A string, number or `$n`, with an optional `::TYPE` cast (values are text either way). */
  value(): Value {
    const token = this.peek()
    let value: Value
    if (token.kind === 'string') value = { kind: 'string', value: token.value }
    else if (token.kind === 'number') value = { kind: 'number', value: token.value }
    else if (token.kind === 'placeholder') {
      value = { kind: 'placeholder', index: token.index }
      this.maxPlaceholder = Math.max(this.maxPlaceholder, token.index)
    } else this.fail()
    this.pos++
    if (this.acceptPunct('::')) {
      this.name()
      if (this.acceptPunct('[')) this.expectPunct(']') // an array type: UUID[]
    }
    return value
  }

  statement(): Statement {
    const token = this.peek()
    if (this.acceptWord('select')) return this.select()
    if (this.acceptWord('show')) return this.show()
    if (this.acceptWord('backup')) return this.backup()
    if (this.acceptWord('restore')) return this.restore()
    for (const action of ['begin', 'commit', 'rollback'] as const) if (this.acceptWord(action)) return { kind: 'transaction', action }
    if (this.acceptWord('insert')) return this.insert()
    if (this.acceptWord('delete')) {
      this.expectWord('from')
      const table = this.qualifiedName()
      return { kind: 'delete-userfile', table, where: this.where() }
    }
    if (this.acceptWord('update')) return this.update()
    if (this.acceptWord('drop')) return this.drop()
    if (this.acceptWord('create')) {
      this.expectWord('database')
      return { kind: 'create-database', name: this.name() }
    }
    if (this.acceptWord('cancel')) {
      this.expectWord('job')
      return { kind: 'cancel-job', jobId: this.value() }
    }
    if (this.acceptWord('set')) return this.set()
    return this.fail(token)
  }

  set(): Statement {
    this.acceptWord('session')
    const name = this.name()
    if (!this.acceptPunct('=')) this.expectWord('to')
    const token = this.peek()
    if (token.kind === 'word' || token.kind === 'string' || token.kind === 'number') {
      this.pos++
      return { kind: 'set', name, value: token.value.toLowerCase() }
    }
    return this.fail(token)
  }

  select(): Statement {
    const items: SelectItem[] | '*' = this.acceptPunct('*') ? '*' : []
    if (items !== '*') {
      do {
        items.push(this.selectItem())
      } while (this.acceptPunct(','))
    }
    if (!this.acceptWord('from')) {
      if (items === '*') return this.fail()
      return { kind: 'select', items }
    }
    const fromToken = this.peek(-1)
    if (this.isPunct('[') && this.isWord('show', 1) && this.isWord('databases', 2)) {
      return this.selectDatabases(items === '*' ? this.fail(fromToken) : items, fromToken)
    }
    if (this.isPunct('[') && this.isWord('show', 1) && this.isWord('tables', 2)) {
      return this.selectTables(items === '*' ? this.fail(fromToken) : items, fromToken)
    }
    if (!this.isWord('crdb_internal') && !this.isPunct('['))
      return this.selectUserfile(items === '*' ? this.fail(fromToken) : items, fromToken)
    const from = this.jobsSource()
    const columns =
      items === '*'
        ? items
        : items.map(item => (typeof item.expr === 'object' && 'column' in item.expr ? item.expr.column : this.fail(fromToken)))
    return { kind: 'select-jobs', columns, from }
  }

  selectUserfile(items: SelectItem[], fromToken: Token): SelectUserfileStatement {
    const table = this.qualifiedName()
    const columns = items.map(item => {
      const expr = item.expr
      if (typeof expr !== 'object' || !('column' in expr)) return this.fail(fromToken)
      const name =
        item.alias ?? (expr.aggregate === 'count' ? 'count' : expr.aggregate ? 'coalesce' : expr.encoding ? 'encode' : expr.column)
      return { column: expr.column, encoding: expr.encoding, aggregate: expr.aggregate, name }
    })
    const where = this.where()
    const orderBy: string[] = []
    if (this.acceptWord('order')) {
      this.expectWord('by')
      do orderBy.push(this.name())
      while (this.acceptPunct(','))
    }
    const limit = this.acceptWord('limit') ? this.value() : undefined
    return { kind: 'select-userfile', table, columns, where, orderBy, limit }
  }

  qualifiedName(): string[] {
    const parts = [this.name()]
    while (this.acceptPunct('.')) parts.push(this.name())
    return parts
  }

  where(): Condition[] {
    const where: Condition[] = []
    if (!this.acceptWord('where')) return where
    do {
      const column = this.name()
      if (this.acceptWord('in')) {
        where.push({ column, op: 'in', subquery: this.subquery() })
        continue
      }
      const op = this.acceptPunct('=') ? '=' : this.acceptPunct('>=') ? '>=' : this.acceptWord('like') ? 'like' : this.fail()
      if (op === '=' && this.acceptWord('any')) {
        this.expectPunct('(')
        where.push({ column, op: 'any', value: this.value() })
        this.expectPunct(')')
        continue
      }
      where.push({ column, op, value: this.value() })
    } while (this.acceptWord('and'))
    return where
  }

  subquery(): Subquery {
    this.expectPunct('(')
    this.expectWord('select')
    const column = this.name()
    this.expectWord('from')
    const table = this.qualifiedName()
    const where = this.where()
    this.expectPunct(')')
    return { table, column, where }
  }

  selectDatabases(items: SelectItem[], fromToken: Token): WriteStatement {
    for (const item of items)
      if (typeof item.expr !== 'object' || !('column' in item.expr) || item.expr.column !== 'database_name') this.fail(fromToken)
    this.expectPunct('[')
    this.expectWord('show')
    this.expectWord('databases')
    this.expectPunct(']')
    const where = this.where()
    const condition = where[0]
    if (where.length > 1 || (condition && (condition.column !== 'database_name' || condition.op !== '='))) this.fail()
    return { kind: 'select-databases', name: condition?.op === '=' ? condition.value : undefined }
  }

  /** `SELECT table_name FROM [SHOW TABLES FROM db.schema] WHERE table_name = $1`: does a table exist now. */
  selectTables(items: SelectItem[], fromToken: Token): WriteStatement {
    for (const item of items)
      if (typeof item.expr !== 'object' || !('column' in item.expr) || item.expr.column !== 'table_name') this.fail(fromToken)
    this.expectPunct('[')
    this.expectWord('show')
    this.expectWord('tables')
    this.expectWord('from')
    const from = this.qualifiedName()
    if (from.length > 2) this.fail()
    this.expectPunct(']')
    const where = this.where()
    const condition = where[0]
    if (where.length > 1 || (condition && (condition.column !== 'table_name' || condition.op !== '='))) this.fail()
    return { kind: 'select-tables', from, name: condition?.value }
  }

  insert(): WriteStatement {
    this.expectWord('into')
    const table = this.qualifiedName()
    this.expectPunct('(')
    const columns: string[] = []
    do columns.push(this.name())
    while (this.acceptPunct(','))
    this.expectPunct(')')
    this.expectWord('values')
    this.expectPunct('(')
    const values: Value[] = []
    do values.push(this.value())
    while (this.acceptPunct(','))
    this.expectPunct(')')
    if (values.length !== columns.length) this.fail()
    return { kind: 'insert-userfile', table, columns, values }
  }

  update(): WriteStatement {
    const table = this.qualifiedName()
    this.expectWord('set')
    const set: { column: string; value: Value }[] = []
    do {
      const column = this.name()
      this.expectPunct('=')
      set.push({ column, value: this.value() })
    } while (this.acceptPunct(','))
    return { kind: 'update-userfile', table, set, where: this.where() }
  }

  drop(): WriteStatement {
    const kind = this.acceptWord('database') ? 'drop-database' : (this.expectWord('table'), 'drop-table')
    let ifExists = false
    if (this.acceptWord('if')) {
      this.expectWord('exists')
      ifExists = true
    }
    const parts = this.qualifiedName()
    this.acceptWord('cascade')
    if (kind === 'drop-database') {
      if (parts.length !== 1 || parts[0] === undefined) this.fail()
      return { kind, name: parts[0], ifExists }
    }
    return { kind, parts, ifExists }
  }

  restore(): RestoreStatement {
    const backup = this.backupTargets()
    this.expectWord('from')
    const path = this.value()
    this.expectWord('in')
    const collection = this.value()
    const statement: RestoreStatement = {
      kind: 'restore',
      targets: backup,
      path,
      collection,
      detached: false,
      newDbName: undefined,
      intoDb: undefined,
      passphrase: undefined
    }
    if (!this.acceptWord('with')) return statement
    const wrapped = this.acceptWord('options')
    if (wrapped) this.expectPunct('(')
    do {
      if (this.acceptWord('detached')) statement.detached = this.optionalBoolean()
      else if (this.acceptWord('new_db_name')) {
        this.expectPunct('=')
        statement.newDbName = this.value()
      } else if (this.acceptWord('into_db')) {
        this.expectPunct('=')
        statement.intoDb = this.value()
      } else if (this.acceptWord('encryption_passphrase')) {
        this.expectPunct('=')
        statement.passphrase = this.value()
      } else this.fail()
    } while (this.acceptPunct(','))
    if (wrapped) this.expectPunct(')')
    return statement
  }

  selectItem(): SelectItem {
    let expr: SelectItem['expr']
    const token = this.peek()
    if (this.acceptWord('current_user') || this.acceptWord('session_user')) {
      expr = token.kind === 'word' && token.value === 'session_user' ? 'session_user' : 'current_user'
      if (this.acceptPunct('(')) this.expectPunct(')')
    } else if (this.isWord('version') && this.peek(1).kind === 'punct') {
      this.pos++
      this.expectPunct('(')
      this.expectPunct(')')
      expr = 'version'
    } else if (this.isWord('cluster_logical_timestamp') && this.peek(1).kind === 'punct') {
      this.pos++
      this.expectPunct('(')
      this.expectPunct(')')
      expr = 'cluster_logical_timestamp'
    } else if (this.isWord('now') && this.peek(1).kind === 'punct') {
      this.pos++
      this.expectPunct('(')
      this.expectPunct(')')
      expr = 'now'
    } else if (this.isWord('count') && this.peek(1).kind === 'punct') {
      this.pos++
      this.expectPunct('(')
      this.expectPunct('*')
      this.expectPunct(')')
      expr = { column: '*', aggregate: 'count' }
    } else if (this.isWord('coalesce') && this.peek(1).kind === 'punct') {
      this.pos++
      for (const word of ['(', 'sum', '(', 'length', '(']) {
        if (word === '(') this.expectPunct('(')
        else this.expectWord(word)
      }
      const column = this.name()
      this.expectPunct(')')
      this.expectPunct(')')
      this.expectPunct(',')
      const zero = this.value()
      if (zero.kind !== 'number' || zero.value !== '0') this.fail()
      this.expectPunct(')')
      expr = { column, aggregate: 'sum-length' }
    } else if (this.isWord('encode') && this.peek(1).kind === 'punct') {
      this.pos++
      this.expectPunct('(')
      const column = this.name()
      this.expectPunct(',')
      const format = this.value()
      this.expectPunct(')')
      expr = { column, encoding: format.kind === 'string' ? format.value : this.fail() }
    } else if (token.kind === 'word' || token.kind === 'identifier') {
      expr = { column: this.name() }
    } else {
      expr = this.value()
    }
    return { expr, alias: this.alias() }
  }

  alias(): string | undefined {
    if (this.acceptWord('as')) return this.name()
    const token = this.peek()
    if (token.kind === 'identifier' || (token.kind === 'word' && token.value !== 'from')) return this.name()
    return undefined
  }

  jobsSource(): JobsSource {
    if (this.acceptPunct('[')) {
      this.expectWord('show')
      if (this.acceptWord('jobs')) {
        this.expectPunct(']')
        const where: JobCondition[] = []
        if (this.acceptWord('where')) {
          do {
            const column = this.name()
            const op = this.acceptPunct('>=') ? '>=' : (this.expectPunct('='), '=')
            where.push({ column, op, value: this.value() })
          } while (this.acceptWord('and'))
        }
        return { kind: 'show-jobs', where }
      }
      this.expectWord('job')
      const jobId = this.value()
      this.expectPunct(']')
      return { kind: 'show-job', jobId }
    }
    if (!this.acceptWord('crdb_internal')) this.fail()
    this.expectPunct('.')
    this.expectWord('jobs')
    let jobId: Value | undefined
    if (this.acceptWord('where')) {
      this.expectWord('job_id')
      this.expectPunct('=')
      jobId = this.value()
    }
    return { kind: 'crdb_internal.jobs', jobId }
  }

  show(): Statement {
    if (this.acceptWord('job')) return { kind: 'show-job', jobId: this.value() }
    if (this.acceptWord('backups')) {
      this.expectWord('in')
      return { kind: 'show-backups', collection: this.value() }
    }
    this.expectWord('backup')
    const spelledWithFrom = this.acceptWord('from')
    const subdir: Value = this.acceptWord('latest') ? { kind: 'string', value: 'LATEST' } : this.value()
    this.expectWord('in')
    const collection = this.value()
    const statement: ShowBackupStatement = {
      kind: 'show-backup',
      subdir,
      collection,
      spelledWithFrom,
      checkFiles: false,
      passphrase: undefined
    }
    if (this.acceptWord('with')) {
      do {
        if (this.acceptWord('check_files')) statement.checkFiles = true
        else if (this.acceptWord('encryption_passphrase')) {
          this.expectPunct('=')
          statement.passphrase = this.value()
        } else this.fail()
      } while (this.acceptPunct(','))
    }
    return statement
  }

  backupTargets(): BackupTargets {
    if (this.acceptWord('database')) {
      const names: string[] = []
      do {
        names.push(this.name())
      } while (this.acceptPunct(','))
      return { kind: 'databases', names }
    }
    if (this.acceptWord('table')) {
      const patterns: TablePattern[] = []
      do {
        patterns.push(this.tablePattern())
      } while (this.acceptPunct(','))
      return { kind: 'tables', patterns }
    }
    return { kind: 'cluster' }
  }

  backup(): BackupStatement {
    const targets = this.backupTargets()
    this.expectWord('into')
    let destination: Destination
    let collection: Value
    if (this.acceptWord('latest')) {
      this.expectWord('in')
      destination = { kind: 'latest' }
      collection = this.value()
    } else {
      const first = this.value()
      if (this.acceptWord('in')) {
        destination = { kind: 'subdir', subdir: first }
        collection = this.value()
      } else {
        destination = { kind: 'new' }
        collection = first
      }
    }
    const asOf = this.asOf()
    const options = this.backupOptions()
    return { kind: 'backup', targets, destination, collection, asOf, options }
  }

  tablePattern(): TablePattern {
    if (this.acceptPunct('*')) return { parts: [], star: true }
    const parts = [this.name()]
    while (this.acceptPunct('.')) {
      if (this.acceptPunct('*')) return { parts, star: true }
      parts.push(this.name())
    }
    if (parts.length > 3) this.fail(this.peek(-1))
    return { parts, star: false }
  }

  asOf(): AsOf | undefined {
    if (!this.acceptWord('as')) return undefined
    this.expectWord('of')
    this.expectWord('system')
    this.expectWord('time')
    if (this.acceptWord('follower_read_timestamp') || this.acceptWord('experimental_follower_read_timestamp')) {
      this.expectPunct('(')
      this.expectPunct(')')
      return { kind: 'follower-read', text: 'follower_read_timestamp()' }
    }
    const token = this.peek()
    const value = this.value()
    if (value.kind === 'number') this.fail(token)
    return { kind: 'value', value, text: this.sql.slice(token.start, this.peek(-1).end) }
  }

  backupOptions(): BackupOptions {
    const options: BackupOptions = { detached: false, revisionHistory: false, passphrase: undefined }
    if (!this.acceptWord('with')) return options
    const wrapped = this.acceptWord('options')
    if (wrapped) this.expectPunct('(')
    do {
      if (this.acceptWord('detached')) options.detached = this.optionalBoolean()
      else if (this.acceptWord('revision_history')) options.revisionHistory = this.optionalBoolean()
      else if (this.acceptWord('encryption_passphrase')) {
        this.expectPunct('=')
        options.passphrase = this.value()
      } else this.fail()
    } while (this.acceptPunct(','))
    if (wrapped) this.expectPunct(')')
    return options
  }

  /** `detached`, `detached = true` or `detached = false`. */
  optionalBoolean(): boolean {
    if (!this.acceptPunct('=')) return true
    if (this.acceptWord('true')) return true
    if (this.acceptWord('false')) return false
    return this.fail()
  }
}

/**
 * Whether the text names anything in `crdb_internal` or `system` (`crdb_internal.jobs`,
 * `"system".users`, `crdb_internal.force_error(…)`): what v26.1+ refuses to ordinary sessions.
 * Statements CockroachDB rewrites internally (SHOW JOB reads crdb_internal.jobs) do not count.
 */
export function namesInternals(sql: string): boolean {
  const tokens = tokenize(sql)
  return tokens.some((token, i) => {
    const next = tokens[i + 1]
    return (
      (token.kind === 'word' || token.kind === 'identifier') &&
      (token.value === 'crdb_internal' || token.value === 'system') &&
      next?.kind === 'punct' &&
      next.value === '.'
    )
  })
}

/** Every statement in `sql` (separated by `;`), each with its own text. */
export function parseStatements(sql: string): ParsedStatement[] {
  const tokens = tokenize(sql)
  const parser = new Parser(sql, tokens)
  const parsed: ParsedStatement[] = []
  for (;;) {
    while (parser.acceptPunct(';'));
    const first = parser.peek()
    if (first.kind === 'eof') return parsed
    parser.maxPlaceholder = 0
    const statement = parser.statement()
    if (!parser.atStatementEnd()) parser.fail()
    const last = parser.peek(-1)
    parsed.push({ statement, sql: sql.slice(first.start, last.end), parameterCount: parser.maxPlaceholder })
  }
}
