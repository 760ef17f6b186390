/**
 * CockroachDB's errors as values with their SQLSTATE. Most backup errors are plain Go errors
 * (`errors.Newf`, `fmt.Errorf`), which CockroachDB reports as XXUUU ("uncategorized").
 * Texts come from docs/cockroachdb-facts.md unless a comment names another source.
 */

export const SQLSTATE = {
  uncategorized: 'XXUUU',
  syntax: '42601',
  undefinedColumn: '42703',
  undefinedFile: '58P01',
  invalidPassword: '28P01',
  invalidTextRepresentation: '22P02',
  featureNotSupported: '0A000'
} as const

export class CrdbError extends Error {
  constructor(
    message: string,
    readonly code: string = SQLSTATE.uncategorized,
    readonly detail?: string,
    readonly hint?: string
  ) {
    super(message)
    this.name = 'CrdbError'
  }

  /** `errors.Wrap(err, prefix)`: the prefix in front, the code kept. */
  wrap(prefix: string): CrdbError {
    return new CrdbError(`${prefix}: ${this.message}`, this.code, this.detail, this.hint)
  }
}

/** pkg/sql/parser: `at or near "<token>": syntax error`. String literals are never echoed (they may hold secrets). */
export function syntaxError(near: string): CrdbError {
  return new CrdbError(`at or near "${near}": syntax error`, SQLSTATE.syntax)
}

export function passwordFailed(user: string): CrdbError {
  return new CrdbError(`password authentication failed for user ${user}`, SQLSTATE.invalidPassword)
}

/** pkg/jobs/jobs.go JobNotFoundError. */
export function jobNotFound(id: string): CrdbError {
  return new CrdbError(`job with ID ${id} does not exist`)
}

/** pkg/jobs/update.go CancelRequested: `job with status|state <s> cannot be requested to be canceled`. */
export function cannotCancel(word: 'status' | 'state', status: string): CrdbError {
  return new CrdbError(`job with ${word} ${status} cannot be requested to be canceled`)
}

/** pkg/jobs errJobCanceled: what a non-detached BACKUP returns when its job is canceled. */
export function jobCanceledByUser(): CrdbError {
  return new CrdbError('job canceled by user')
}

export function undefinedColumn(name: string): CrdbError {
  return new CrdbError(`column "${name}" does not exist`, SQLSTATE.undefinedColumn)
}

export function invalidInt(text: string): CrdbError {
  return new CrdbError(
    `could not parse "${text}" as type int: strconv.ParseInt: parsing "${text}": invalid syntax`,
    SQLSTATE.invalidTextRepresentation
  )
}
