/**
 * The folder a BACKUP job's description names, read with a small SQL lexer (strings with their
 * escapes, words, the rest): CockroachDB writes the statement back into the job's description.
 */

type Token = { kind: 'word'; text: string } | { kind: 'string'; text: string } | { kind: 'other' }

/**
 * Just enough of CockroachDB's lexer to read a job description: words, '…' strings with '' and
 * e'…' strings with backslash escapes (how lexbase prints strings holding quotes or non-ASCII),
 * and "…" identifiers, so nothing inside a literal or a quoted name is taken for a keyword.
 */
function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < text.length) {
    const char = text[i] ?? ''
    const escaped = (char === 'e' || char === 'E') && text[i + 1] === "'"
    if (char === "'" || escaped) {
      let value = ''
      i += escaped ? 2 : 1
      while (i < text.length) {
        const c = text[i] ?? ''
        if (escaped && c === '\\') {
          value += unescape(text, i + 1)
          i += escapeLength(text, i + 1) + 1
        } else if (c === "'" && text[i + 1] === "'" && !escaped) {
          value += "'"
          i += 2
        } else if (c === "'") {
          i++
          break
        } else {
          value += c
          i++
        }
      }
      tokens.push({ kind: 'string', text: value })
    } else if (char === '"') {
      const end = text.indexOf('"', i + 1)
      i = end === -1 ? text.length : end + 1
      while (text[i] === '"') i = text.indexOf('"', i + 1) + 1 || text.length // "" inside the name
      tokens.push({ kind: 'other' })
    } else if (/[A-Za-z_]/.test(char)) {
      const word = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(text.slice(i))?.[0] ?? char
      tokens.push({ kind: 'word', text: word.toUpperCase() })
      i += word.length
    } else {
      if (!/\s/.test(char)) tokens.push({ kind: 'other' })
      i++
    }
  }
  return tokens
}

function escapeLength(text: string, at: number): number {
  const c = text[at]
  if (c === 'x') return 3
  if (c === 'u') return 5
  if (c === 'U') return 9
  if (c !== undefined && /[0-7]/.test(c)) return 3
  return 1
}

function unescape(text: string, at: number): string {
  const c = text[at] ?? ''
  const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v' }
  if (c === 'x') return String.fromCharCode(parseInt(text.slice(at + 1, at + 3), 16))
  if (c === 'u') return String.fromCodePoint(parseInt(text.slice(at + 1, at + 5), 16))
  if (c === 'U') return String.fromCodePoint(parseInt(text.slice(at + 1, at + 9), 16))
  if (/[0-7]/.test(c)) return String.fromCharCode(parseInt(text.slice(at, at + 3), 8))
  return simple[c] ?? c
}

/** The folder a detached job's description names: `BACKUP … INTO '/2024/05/07-141012.34' IN '…'`. */
export function folderFromJobDescription(description: string | null | undefined): string | undefined {
  if (!description) return undefined
  const tokens = tokenize(description)
  for (let i = 0; i + 2 < tokens.length; i++) {
    const [into, folder, inWord] = [tokens[i], tokens[i + 1], tokens[i + 2]]
    if (into?.kind === 'word' && into.text === 'INTO' && folder?.kind === 'string' && inWord?.kind === 'word' && inWord.text === 'IN') {
      return folder.text
    }
  }
  return undefined
}

/** Whether a job's description holds `literal` as a whole string literal (not inside a longer one, not as a name). */
export function carriesStringLiteral(description: string | null | undefined, literal: string): boolean {
  if (!description) return false
  return tokenize(description).some(token => token.kind === 'string' && token.text === literal)
}
