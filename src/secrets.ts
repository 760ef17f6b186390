/** Everything secret in the raw inputs, found before any of them is validated or logged. */
import { uriSecrets } from './collection.js'
import { connectionStringSecrets } from './connection-string.js'

export interface RawSecretInputs {
  connectionString: string
  encryptionPassphrase: string
  collection: string
}

export function secretsIn(raw: RawSecretInputs): string[] {
  const secrets = [
    ...connectionStringSecrets(raw.connectionString),
    ...uriSecrets(raw.collection.trim()).secrets,
    raw.encryptionPassphrase,
    raw.encryptionPassphrase.trim()
  ]
  return [...new Set(secrets.filter(secret => secret !== ''))]
}
