/**
 * How the action reads what a connection attempt or a statement ran into, without the driver:
 * which errors mean the cluster is still starting, the hint for one that is final, and QueryError
 * for a failed statement.
 */
import { ActionError, databaseErrorFields } from '../base/errors.js'

/** Errors a cluster that is still starting gives; anything else (bad password, bad certificate) is final. */
const RETRIABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EPIPE',
  '57P01',
  '57P03',
  '08006',
  '08001',
  '08003'
])
const RETRIABLE_MESSAGES =
  /Connection terminated|timeout expired|ECONNRESET|socket hang up|server is not accepting clients|node is (draining|shutting down)|not yet ready/i

export function isRetriableConnectError(error: unknown): boolean {
  const { code, message } = databaseErrorFields(error)
  return (code !== undefined && RETRIABLE_CODES.has(code)) || RETRIABLE_MESSAGES.test(message)
}

export const SSL_REFUSED = 'The server does not support SSL connections'

export function connectHint(error: unknown): string | undefined {
  const { code, message } = databaseErrorFields(error)
  if (code === '28P01' || code === '28000') return 'Check the user name and password in connection-string.'
  if (message === SSL_REFUSED) return 'The server does not offer TLS (an --insecure cluster?): use sslmode=disable.'
  if (/certificate|self.signed|altname|CERT_/i.test(message))
    return 'Check sslrootcert and the sslmode (verify-full also checks the host name).'
  return undefined
}

/** A failed statement: the message says what was being done; `cause` keeps the driver error. */
export class QueryError extends ActionError {
  readonly code: string | undefined
  constructor(
    message: string,
    cause: unknown,
    /** The statement that failed, as sent (redact it before showing it). */
    readonly statement?: string
  ) {
    super(message, undefined, { cause })
    this.code = databaseErrorFields(cause).code
  }

  /** The connection broke (rather than CockroachDB refusing the statement). */
  get connectionLost(): boolean {
    return (
      isRetriableConnectError(this.cause) ||
      /Connection terminated|Client has encountered a connection error|not queryable|Query read timeout/i.test(
        databaseErrorFields(this.cause).message
      )
    )
  }
}
