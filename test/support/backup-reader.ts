/**
 * A test-side reader of the BACKUP statements src/cluster/sql/ builds, on the one test SQL lexer
 * (sql-tokenizer.ts): it reads a statement back into its target, destination, collection, AS OF
 * SYSTEM TIME and options, refusing any name that would not read back as itself.
 */
import type * as sql from '../../src/cluster/sql/index.js'
import { tokenize, type Token } from './sql-tokenizer.js'

/**
 * The oracle for "must be quoted": reserved and lookahead keywords of pkg/sql/lexbase, copied from
 * docs/cockroachdb-facts.md §8 (not from src/cluster/sql/).
 */
export const RESERVED = new Set(
  `all analyse analyze and annotate_type any array as asc asymmetric authorization between bigint bit boolean both
  box2d case cast char character characteristics check coalesce cockroachdb_extra_reserved_keyword collate collation
  column concurrently constraint create cross current_catalog current_date current_role current_schema current_time
  current_timestamp current_user dec decimal default deferrable desc distinct do else end except exists extract
  extract_duration false family fetch float for foreign from full geography geometry grant greatest group grouping
  having if iferror ifnull ilike in index initially inner int integer intersect interval into is iserror isnull join
  lateral leading least left like limit localtime localtimestamp natural none not nothing notnull null nullif numeric
  offset on only or order out outer overlaps overlay placing point polygon position precision primary real references
  returning right row select session_user similar smallint some string substring symmetric table then time timestamp
  timestamptz timetz to trailing treat trim true union unique user using values varbit varchar variadic virtual when
  where window with work
  of ordinality generated reset role tenant set`.split(/\s+/)
)

type Destination = sql.BackupStatementOptions['destination']

export interface ParsedBackup {
  target: { kind: 'databases'; names: string[] } | { kind: 'tables'; names: string[][] }
  destination: Destination
  collection: string
  asOf: { kind: 'literal'; value: string } | { kind: 'follower-read' } | undefined
  options: { name: string; value?: string }[]
}

export class Reader {
  private index = 0
  constructor(private readonly tokens: Token[]) {}

  peek(): Token | undefined {
    return this.tokens[this.index]
  }

  next(what: string): Token {
    const token = this.tokens[this.index++]
    if (token === undefined) throw new Error(`expected ${what}, found the end`)
    return token
  }

  isWord(word: string): boolean {
    const token = this.peek()
    return token?.kind === 'word' && token.value === word
  }

  isPunctuation(text: string): boolean {
    const token = this.peek()
    return token?.kind === 'punctuation' && token.text === text
  }

  word(word: string): void {
    const token = this.next(word)
    if (token.kind !== 'word' || token.value !== word) throw new Error(`expected ${word}, found ${token.text}`)
  }

  punctuation(text: string): void {
    const token = this.next(text)
    if (token.kind !== 'punctuation' || token.text !== text) throw new Error(`expected ${text}, found ${token.text}`)
  }

  string(): string {
    const token = this.next('a string literal')
    if (token.kind !== 'string') throw new Error(`expected a string literal, found ${token.kind} ${token.text}`)
    return token.value
  }

  /** A name: a quoted identifier, or a bare word CockroachDB reads back unchanged (not reserved). */
  identifier(): string {
    const token = this.next('a name')
    if (token.kind === 'identifier') return token.value
    if (token.kind !== 'word') throw new Error(`expected a name, found ${token.kind} ${token.text}`)
    if (token.text !== token.value || RESERVED.has(token.value)) throw new Error(`bare ${token.text} would not read back as itself`)
    return token.value
  }

  end(): void {
    const token = this.peek()
    if (token !== undefined) throw new Error(`unexpected ${token.kind} ${token.text} after the statement`)
  }
}

export function parseBackup(statement: string): ParsedBackup {
  const r = new Reader(tokenize(statement))
  r.word('backup')
  let target: ParsedBackup['target']
  if (r.isWord('database')) {
    r.word('database')
    const names = [r.identifier()]
    while (r.isPunctuation(',')) {
      r.punctuation(',')
      names.push(r.identifier())
    }
    target = { kind: 'databases', names }
  } else {
    r.word('table')
    const names: string[][] = []
    do {
      if (names.length > 0) r.punctuation(',')
      const parts = [r.identifier()]
      while (r.isPunctuation('.')) {
        r.punctuation('.')
        if (r.isPunctuation('*')) {
          r.punctuation('*')
          parts.push('*')
          break
        }
        parts.push(r.identifier())
      }
      names.push(parts)
    } while (r.isPunctuation(','))
    target = { kind: 'tables', names }
  }
  r.word('into')
  let destination: Destination
  let collection: string
  if (r.isWord('latest')) {
    r.word('latest')
    r.word('in')
    destination = { kind: 'latest' }
    collection = r.string()
  } else {
    const first = r.string()
    if (r.isWord('in')) {
      r.word('in')
      destination = { kind: 'subdirectory', name: first }
      collection = r.string()
    } else {
      destination = { kind: 'new' }
      collection = first
    }
  }
  let asOf: ParsedBackup['asOf']
  if (r.isWord('as')) {
    for (const word of ['as', 'of', 'system', 'time']) r.word(word)
    if (r.isWord('follower_read_timestamp')) {
      r.word('follower_read_timestamp')
      r.punctuation('(')
      r.punctuation(')')
      asOf = { kind: 'follower-read' }
    } else {
      asOf = { kind: 'literal', value: r.string() }
    }
  }
  const opts: ParsedBackup['options'] = []
  if (r.isWord('with')) {
    r.word('with')
    do {
      if (opts.length > 0) r.punctuation(',')
      const name = r.next('an option')
      if (name.kind !== 'word') throw new Error(`expected an option, found ${name.text}`)
      if (r.isPunctuation('=')) {
        r.punctuation('=')
        opts.push({ name: name.value, value: r.string() })
      } else {
        opts.push({ name: name.value })
      }
    } while (r.isPunctuation(','))
  }
  r.end()
  return { target, destination, collection, asOf, options: opts }
}
