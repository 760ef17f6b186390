/** Everything secret in the raw inputs, found before any of them is validated or logged. */
import { secretForms } from '../base/secrets.js'
import { uriSecrets } from '../base/uri-secrets.js'
import { connectionStringSecrets } from '../cluster/connection-string.js'
import { pemSecrets } from '../cluster/tls.js'

export interface RawSecretInputs {
  connectionString: string
  encryptionPassphrase: string
  collection: string
  /** ca-cert, client-cert, client-key: PEM text is masked; a path is not secret. */
  pems: string[]
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
