/** A statement sql.ts built, made fit for the job summary: no passphrase, no storage credentials. */
import { redactCollection } from '../base/uri-secrets.js'
import { quoteLiteral } from './sql/index.js'

/** The index just past the quote that closes the one at `start` (a doubled quote stays inside). */
function closingQuote(text: string, start: number, quote: string): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] !== quote) continue
    if (text[i + 1] === quote) i++
    else return i + 1
  }
  return -1
}

/**
 * Any statement this module built, fit to show: the passphrase literal replaced, and credentials
 * in storage URIs redacted. For the summary of a failed step, which shows the statement that was
 * running whichever it was.
 */
export function redactStatement(statement: string): string {
  let shown = ''
  let i = 0
  while (i < statement.length) {
    const quote = statement.charAt(i)
    if (quote !== "'" && quote !== '"') {
      shown += quote
      i++
      continue
    }
    const end = closingQuote(statement, i, quote)
    // Never show the rest of a literal that does not end: nothing this module builds has one.
    if (end < 0) return `${shown}${quote === "'" ? "'redacted'" : '"…"'}`
    const token = statement.slice(i, end)
    if (quote === '"') shown += token
    else if (/encryption_passphrase\s*=\s*$/i.test(shown)) shown += "'redacted'"
    else {
      const value = token.slice(1, -1).replaceAll("''", "'")
      shown += value.includes('://') ? quoteLiteral(redactCollection(value)) : token
    }
    i = end
  }
  return shown
}
