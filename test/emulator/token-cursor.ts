/**
 * A cursor over one SQL text's tokens, with the reads every grammar rule is built from: words,
 * punctuation, names and values. Whatever it cannot take is CockroachDB's `at or near "…": syntax
 * error` (42601) at that token.
 */
import { syntaxError } from './errors.js'
import { describeToken, type Token } from './lexer.js'
import type { Value } from './statements.js'

export class TokenCursor {
  protected pos = 0
  maxPlaceholder = 0

  constructor(
    protected readonly sql: string,
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
}
