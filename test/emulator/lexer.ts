/**
 * Splits CockroachDB SQL into tokens (pkg/sql/scanner rules, reduced to what the emulator parses):
 * words (bare identifiers and keywords, folded to lower case), "quoted" identifiers (`""` is a quote),
 * 'strings' (`''` is a quote), e'escape strings', numbers, `$n` placeholders, `::` and punctuation.
 * Comments and whitespace are dropped.
 */
import { CrdbError, syntaxError } from './errors.js'

export type Token =
  | { kind: 'word'; value: string; start: number; end: number }
  | { kind: 'identifier'; value: string; start: number; end: number }
  | { kind: 'string'; value: string; start: number; end: number }
  | { kind: 'number'; value: string; start: number; end: number }
  | { kind: 'placeholder'; index: number; start: number; end: number }
  | { kind: 'punct'; value: string; start: number; end: number }
  | { kind: 'eof'; start: number; end: number }

const PUNCTUATION = new Set([',', '.', '(', ')', ';', '=', '*', '[', ']', '-', '+'])

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c.charCodeAt(0) >= 0x80
}

function isIdentPart(c: string): boolean {
  return isIdentStart(c) || (c >= '0' && c <= '9') || c === '$'
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9'
}

/** Reads a quoted run from the opening quote; a doubled quote stands for one. */
function readQuoted(sql: string, start: number, quote: string): { value: string; end: number } {
  let value = ''
  let i = start + 1
  for (;;) {
    const next = sql.indexOf(quote, i)
    if (next === -1) throw new CrdbError(`lexical error: unterminated ${quote === '"' ? 'identifier' : 'string'}`, '42601')
    value += sql.slice(i, next)
    if (sql[next + 1] === quote) {
      value += quote
      i = next + 2
      continue
    }
    return { value, end: next + 1 }
  }
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '\\': '\\', "'": "'" }

/** e'…': backslash escapes (the common ones and \xHH), and `''` as a quote. */
function readEscapeString(sql: string, start: number): { value: string; end: number } {
  let value = ''
  let i = start + 1
  while (i < sql.length) {
    const c = sql.charAt(i)
    if (c === "'") {
      if (sql[i + 1] === "'") {
        value += "'"
        i += 2
        continue
      }
      return { value, end: i + 1 }
    }
    if (c === '\\') {
      const e = sql.charAt(i + 1)
      if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(sql.slice(i + 2, i + 4))) {
        value += String.fromCharCode(parseInt(sql.slice(i + 2, i + 4), 16))
        i += 4
        continue
      }
      value += ESCAPES[e] ?? e
      i += 2
      continue
    }
    value += c
    i++
  }
  throw new CrdbError('lexical error: unterminated string', '42601')
}

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < sql.length) {
    const c = sql.charAt(i)
    if (/\s/.test(c)) {
      i++
    } else if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i)
      i = nl === -1 ? sql.length : nl + 1
    } else if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2)
      if (close === -1) throw new CrdbError('lexical error: unterminated comment', '42601')
      i = close + 2
    } else if ((c === 'e' || c === 'E') && sql[i + 1] === "'") {
      const { value, end } = readEscapeString(sql, i + 1)
      tokens.push({ kind: 'string', value, start: i, end })
      i = end
    } else if (isIdentStart(c)) {
      let end = i + 1
      while (end < sql.length && isIdentPart(sql.charAt(end))) end++
      tokens.push({ kind: 'word', value: sql.slice(i, end).toLowerCase(), start: i, end })
      i = end
    } else if (c === '"') {
      const { value, end } = readQuoted(sql, i, '"')
      tokens.push({ kind: 'identifier', value, start: i, end })
      i = end
    } else if (c === "'") {
      const { value, end } = readQuoted(sql, i, "'")
      tokens.push({ kind: 'string', value, start: i, end })
      i = end
    } else if (isDigit(c) || (c === '.' && isDigit(sql[i + 1]))) {
      let end = i
      while (end < sql.length && (isDigit(sql[end]) || sql[end] === '.')) end++
      tokens.push({ kind: 'number', value: sql.slice(i, end), start: i, end })
      i = end
    } else if (c === '$' && isDigit(sql[i + 1])) {
      let end = i + 1
      while (isDigit(sql[end])) end++
      tokens.push({ kind: 'placeholder', index: Number(sql.slice(i + 1, end)), start: i, end })
      i = end
    } else if ((c === ':' && sql[i + 1] === ':') || (c === '>' && sql[i + 1] === '=')) {
      tokens.push({ kind: 'punct', value: `${c}${sql[i + 1] ?? ''}`, start: i, end: i + 2 })
      i += 2
    } else if (PUNCTUATION.has(c)) {
      tokens.push({ kind: 'punct', value: c, start: i, end: i + 1 })
      i++
    } else {
      throw syntaxError(c)
    }
  }
  tokens.push({ kind: 'eof', start: sql.length, end: sql.length })
  return tokens
}

/** The text CockroachDB puts in `at or near "…"`; string literals are masked so secrets never reach an error. */
export function describeToken(token: Token): string {
  switch (token.kind) {
    case 'eof':
      return 'EOF'
    case 'string':
      return '*****'
    case 'placeholder':
      return `$${token.index}`
    default:
      return token.value
  }
}

/**
 * The statement with every `encryption_passphrase = '…'` and `password '…'` literal replaced by
 * `'*****'`, for logs. Works on tokens, so it also covers statements the parser rejects.
 */
export function redactSecrets(sql: string): string {
  let tokens: Token[]
  try {
    tokens = tokenize(sql)
  } catch {
    // Unlexable text may still hold a secret somewhere: log nothing of it.
    return '<unparsable statement>'
  }
  let out = ''
  let last = 0
  tokens.forEach((token, i) => {
    const before = tokens[i - 1]
    const twoBefore = tokens[i - 2]
    const secret =
      token.kind === 'string' &&
      ((before?.kind === 'word' && before.value === 'password') ||
        (before?.kind === 'punct' && before.value === '=' && twoBefore?.kind === 'word' && twoBefore.value === 'encryption_passphrase'))
    if (secret) {
      out += `${sql.slice(last, token.start)}'*****'`
      last = token.end
    }
  })
  return out + sql.slice(last)
}
