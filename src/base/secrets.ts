/** The forms a secret takes on its way to a log line. */
function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text // not valid percent-encoding: the text as written is its only form
  }
}

/**
 * Every form a secret can take on its way to a log line: as written (and trimmed), SQL-escaped (a
 * `'` doubled inside a literal, which CockroachDB's syntax errors echo as `source SQL: …`),
 * percent-encoded (inside a URI) and percent-decoded (a URI's credentials as the server sees them),
 * and the SQL-escaped form of each of those.
 */
export function secretForms(secret: string): string[] {
  const plain = [secret, secret.trim(), encodeURIComponent(secret), percentDecoded(secret)]
  return [...new Set([...plain, ...plain.map(form => form.replaceAll("'", "''"))])].filter(form => form !== '')
}
