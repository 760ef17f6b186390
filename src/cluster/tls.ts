/**
 * TLS material for the connection: the `ca-cert`, `client-cert` and `client-key` inputs (PEM text,
 * typically from a secret, or a path to a file) and libpq's sslrootcert / sslcert / sslkey URL
 * parameters (paths). Read once, while the inputs are checked, so a bad file names its input.
 */
import { readFileSync } from 'node:fs'
import { InputError, databaseErrorFields } from '../base/errors.js'

export interface TlsMaterial {
  ca: string | undefined
  cert: string | undefined
  key: string | undefined
}

const PEM = /-----BEGIN [A-Z0-9 ]+-----[\s\S]+?-----END [A-Z0-9 ]+-----/

/** PEM text as given, or the contents of the file it names. */
export function readPem(input: string, value: string | undefined): string | undefined {
  const text = value?.trim()
  if (!text) return undefined
  if (text.includes('-----BEGIN')) {
    if (!PEM.test(text)) throw new InputError(input, 'looks like PEM but has no matching -----END line.')
    return `${text}\n`
  }
  let contents: string
  try {
    contents = readFileSync(text, 'utf8')
  } catch (error) {
    // The value is not echoed: it may be key material pasted without its PEM header.
    throw new InputError(input, `is neither PEM text nor a readable file (${errorCode(error)}).`)
  }
  if (!PEM.test(contents)) throw new InputError(input, 'names a file that holds no PEM block.')
  return contents
}

/** Lines worth masking: the base64 body of every block (headers like -----BEGIN CERTIFICATE----- are not secret). */
export function pemSecrets(pem: string | undefined): string[] {
  if (pem === undefined) return []
  const body = pem
    .split(/\r?\n/)
    .map(line => line.trim())
    .filter(line => line !== '' && !line.startsWith('-----'))
  return [pem.trim(), ...body]
}

function errorCode(error: unknown): string {
  return databaseErrorFields(error).code ?? 'unreadable'
}
