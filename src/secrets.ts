/** Everything secret in the raw inputs, found before any of them is validated or logged. */
import { uriSecrets } from './uri-secrets.js'
import { connectionStringSecrets } from './connection-string.js'
import { pemSecrets } from './tls.js'

export interface RawSecretInputs {
  connectionString: string
  encryptionPassphrase: string
  collection: string
  /** ca-cert, client-cert, client-key: PEM text is masked; a path is not secret. */
  pems: string[]
}

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

export function secretsIn(raw: RawSecretInputs): string[] {
  const secrets = [
    ...connectionStringSecrets(raw.connectionString),
    ...uriSecrets(raw.collection.trim()).secrets,
    raw.encryptionPassphrase,
    raw.encryptionPassphrase.trim(),
    ...raw.pems.filter(pem => pem.includes('-----BEGIN')).flatMap(pem => pemSecrets(pem))
  ]
  return [...new Set(secrets.filter(secret => secret !== '').flatMap(secretForms))]
}
