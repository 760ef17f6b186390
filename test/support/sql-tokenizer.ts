/**
 * A small tokenizer for the CockroachDB SQL the action sends, written from the lexical rules of
 * pkg/sql/scanner (and PostgreSQL's, which it follows) without reading src/: tests use it to check
 * that what src/cluster/sql/ builds is read back by a SQL lexer as the statement it meant.
 *
 * It knows: words (keywords and bare identifiers), "quoted" identifiers (`""` is one quote),
 * 'string' literals (`''` is one quote; standard_conforming_strings, so a backslash is itself),
 * numbers, the punctuation `, . ( ) ; = *`, and `--` / `/* *\/` comments (nested, as in
 * PostgreSQL). A letter glued to a quote (`e'…'`, `b'…'`, `x'…'`) starts a prefixed literal with
 * other escaping rules; it is reported as its own kind so a test can insist it never appears.
 * Anything else (`$1`, `$$…$$`, operators) is an error: the builder never needs it.
 */

export type Token =
  | { kind: 'word'; text: string; /** Bare identifiers fold to lower case. */ value: string }
  | { kind: 'identifier'; text: string; value: string }
  | { kind: 'string'; text: string; value: string }
  | { kind: 'prefixed-string'; text: string; prefix: string }
  | { kind: 'number'; text: string }
  | { kind: 'punctuation'; text: ',' | '.' | '(' | ')' | ';' | '=' | '*' }
  | { kind: 'line-comment'; text: string }
  | { kind: 'block-comment'; text: string }

export class SqlSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number
  ) {
    super(`${message} at offset ${offset}`)
    this.name = 'SqlSyntaxError'
  }
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r', '\f', '\v'])
const PUNCTUATION = new Set([',', '.', '(', ')', ';', '=', '*'])
const STRING_PREFIXES = new Set(['e', 'E', 'b', 'B', 'x', 'X'])

/** pkg/sql/lexbase: an identifier starts with a letter, `_` or any non-ASCII character. */
function isIdentStart(char: string): boolean {
  return /[A-Za-z_]/.test(char) || char.charCodeAt(0) >= 0x80
}

function isIdentPart(char: string): boolean {
  return isIdentStart(char) || /[0-9$]/.test(char)
}

/** Reads a quoted run starting at `start` (on the opening quote); a doubled quote is one quote. */
function readQuoted(sql: string, start: number, quote: '"' | "'"): { value: string; end: number } {
  let value = ''
  let i = start + 1
  for (;;) {
    const next = sql.indexOf(quote, i)
    if (next === -1) throw new SqlSyntaxError(`unterminated ${quote === '"' ? 'quoted identifier' : 'string literal'}`, start)
    value += sql.slice(i, next)
    if (sql[next + 1] === quote) {
      value += quote
      i = next + 2
      continue
    }
    return { value, end: next + 1 }
  }
}

function readBlockComment(sql: string, start: number): number {
  let depth = 0
  let i = start
  while (i < sql.length) {
    if (sql.startsWith('/*', i)) {
      depth++
      i += 2
    } else if (sql.startsWith('*/', i)) {
      depth--
      i += 2
      if (depth === 0) return i
    } else {
      i++
    }
  }
  throw new SqlSyntaxError('unterminated block comment', start)
}

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < sql.length) {
    const char = sql[i] ?? ''
    if (WHITESPACE.has(char)) {
      i++
    } else if (sql.startsWith('--', i)) {
      const newline = sql.indexOf('\n', i)
      const end = newline === -1 ? sql.length : newline
      tokens.push({ kind: 'line-comment', text: sql.slice(i, end) })
      i = end
    } else if (sql.startsWith('/*', i)) {
      const end = readBlockComment(sql, i)
      tokens.push({ kind: 'block-comment', text: sql.slice(i, end) })
      i = end
    } else if (STRING_PREFIXES.has(char) && sql[i + 1] === "'") {
      // Escapes differ inside these; finding the end exactly is not needed, only noticing them.
      const { end } = readQuoted(sql, i + 1, "'")
      tokens.push({ kind: 'prefixed-string', text: sql.slice(i, end), prefix: char })
      i = end
    } else if (char === "'") {
      const { value, end } = readQuoted(sql, i, "'")
      tokens.push({ kind: 'string', text: sql.slice(i, end), value })
      i = end
    } else if (char === '"') {
      const { value, end } = readQuoted(sql, i, '"')
      if (value === '') throw new SqlSyntaxError('zero-length quoted identifier', i)
      tokens.push({ kind: 'identifier', text: sql.slice(i, end), value })
      i = end
    } else if (/[0-9]/.test(char)) {
      const match = /^[0-9]+(?:\.[0-9]+)?/.exec(sql.slice(i)) as RegExpExecArray
      if (isIdentStart(sql[i + match[0].length] ?? ' ')) throw new SqlSyntaxError('a number runs into a word', i)
      tokens.push({ kind: 'number', text: match[0] })
      i += match[0].length
    } else if (isIdentStart(char)) {
      let end = i + 1
      while (end < sql.length && isIdentPart(sql[end] ?? '')) end++
      const text = sql.slice(i, end)
      tokens.push({ kind: 'word', text, value: text.toLowerCase() })
      i = end
    } else if (PUNCTUATION.has(char)) {
      tokens.push({ kind: 'punctuation', text: char as ',' | '.' | '(' | ')' | ';' | '=' | '*' })
      i++
    } else {
      throw new SqlSyntaxError(`unexpected character ${JSON.stringify(char)}`, i)
    }
  }
  return tokens
}
