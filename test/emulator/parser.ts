/**
 * The SQL parser: the statement shapes the emulator understands (statements.ts), parsed by recursive
 * descent over lexer.ts's tokens. Anything else is CockroachDB's `at or near "…": syntax error`
 * (42601) at the first token the grammar cannot take. This file holds the statement dispatch, SELECT
 * and the writes; BACKUP, RESTORE and SHOW are in backup-grammar.ts, the token reads in token-cursor.ts.
 */
import { BackupGrammar } from './backup-grammar.js'
import { tokenize, type Token } from './lexer.js'
import type {
  Condition,
  JobCondition,
  JobsSource,
  ParsedStatement,
  SelectItem,
  SelectUserfileStatement,
  Statement,
  Subquery,
  Value,
  WriteStatement
} from './statements.js'

/** The columns of SHOW TABLES the action selects (pkg/sql/delegate/show_tables.go). */
const SHOW_TABLES_COLUMNS = ['schema_name', 'table_name', 'type']

class Parser extends BackupGrammar {
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
    if (this.acceptWord('alter')) {
      this.expectWord('database')
      const name = this.name()
      this.expectWord('rename')
      this.expectWord('to')
      return { kind: 'rename-database', name, newName: this.name() }
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
    let name: string
    if (this.acceptWord('time')) {
      this.expectWord('zone')
      name = 'timezone'
    } else {
      name = this.name()
      if (!this.acceptPunct('=')) this.expectWord('to')
    }
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
    // The AS OF SYSTEM TIME clause belongs to the FROM clause, before WHERE (sql.y opt_as_of_clause).
    const asOf = this.asOf()
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
    return { kind: 'select-userfile', table, columns, where, orderBy, limit, asOf }
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

  /**
   * `SELECT table_name FROM [SHOW TABLES FROM db.schema] WHERE table_name = $1`: does a table exist
   * now; `SELECT table_name, type FROM [SHOW TABLES FROM db.schema]`: what each relation is.
   */
  selectTables(items: SelectItem[], fromToken: Token): WriteStatement {
    const columns = items.map(item =>
      typeof item.expr === 'object' && 'column' in item.expr && SHOW_TABLES_COLUMNS.includes(item.expr.column)
        ? item.expr.column
        : this.fail(fromToken)
    )
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
    return { kind: 'select-tables', columns, from, name: condition?.value }
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
